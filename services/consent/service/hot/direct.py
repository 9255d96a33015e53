"""What the hot paths run on: a direct asyncpg pool beside the ORM's, with the settings and the clock."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
from sqlalchemy.engine import Engine

from services.consent.settings import ConsentSettings
from shared.rules.clock import Clock


@dataclass(frozen=True, slots=True)
class Direct:
    """The hot paths' counterpart of a unit of work, built once when the service starts (``app.state.direct``)."""

    pool: asyncpg.Pool
    engine: Engine  # the ORM's engine: it keys the purpose cache the routes fill (``cache.py``)
    settings: ConsentSettings
    clock: Clock


async def _keep_session(_: asyncpg.Connection) -> None:
    """Nothing to reset when a connection goes back to the direct pool (saves a round trip per request).

    The pool only runs single statements outside explicit transactions (checks, and single decisions
    written by one statement): no SET, LISTEN, advisory lock or cursor ever outlives a request.
    """


@contextlib.asynccontextmanager
async def open_direct(settings: ConsentSettings, clock: Clock, engine: Engine) -> AsyncIterator[Direct]:
    """The direct pool, open while the service runs: the hot paths skip the ORM pool's pre-ping, BEGIN and COMMIT."""
    dsn = settings.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    pool = await asyncpg.create_pool(
        dsn,
        min_size=1,
        max_size=settings.check_pool_size,
        server_settings={"timezone": "UTC"},
        reset=_keep_session,
    )
    try:
        yield Direct(pool, engine, settings, clock)
    finally:
        await pool.close()
