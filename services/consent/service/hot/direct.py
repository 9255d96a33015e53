"""What the hot paths run on: the database's direct asyncpg pool beside the ORM's, with the settings and the clock."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
from sqlalchemy.engine import Engine

from services.consent.settings import ConsentSettings
from shared.rules.clock import Clock
from shared.runtime.db import Database


@dataclass(frozen=True, slots=True)
class Direct:
    """The hot paths' counterpart of a unit of work, built once when the service starts (``app.state.direct``)."""

    pool: asyncpg.Pool
    engine: Engine  # the ORM's engine: it keys the purpose cache the routes fill (``cache.py``)
    settings: ConsentSettings
    clock: Clock


@contextlib.asynccontextmanager
async def open_direct(settings: ConsentSettings, clock: Clock, database: Database) -> AsyncIterator[Direct]:
    """The hot paths' view of the database's direct pool: no pre-ping, BEGIN or COMMIT per request.

    The pool is the one read-only units read by key on (``Database.open_direct``), opened once per process.
    """
    yield Direct(await database.open_direct(), database.engine.sync_engine, settings, clock)
