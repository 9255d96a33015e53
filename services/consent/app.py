"""The consent service: application factory."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import asyncpg
from fastapi import FastAPI

from services.consent.api import HOT_PATHS, ROUTERS
from services.consent.jobs import JOBS
from services.consent.settings import ConsentSettings
from services.consent.store import SYSTEM, ConsentStore
from shared.clock import Clock, SystemClock
from shared.service import ServiceSpec, create_service_app
from shared.settings import load_settings
from shared.store import dsar_task_subscription

TAGS = [
    {"name": "purposes", "description": "The purpose catalogue, notice versions and the controller profile"},
    {"name": "consents", "description": "Record, withdraw and read consent decisions with their proof"},
    {"name": "checks", "description": "The hot path for product backends, and subject histories"},
    {"name": "imports", "description": "Bulk import of existing consents (NDJSON, CSV), resumable"},
]


def spec(settings: ConsentSettings, clock: Clock) -> ServiceSpec:
    """The consent service's routes, DSAR-store subscription and jobs."""
    return ServiceSpec(
        name="consent",
        title="privops consent",
        description="Consent records with proof, checks for product backends, expiry, GPC and receipts.",
        routers=ROUTERS,
        hot_paths=HOT_PATHS,
        subscriptions=[dsar_task_subscription(SYSTEM, ConsentStore(settings, clock))],
        jobs=JOBS,
        openapi_tags=TAGS,
    )


async def _keep_session(_: asyncpg.Connection) -> None:
    """Nothing to reset when a check connection goes back to the pool (saves a round trip per check).

    The pool only runs single read-only statements outside transactions: no SET, LISTEN, advisory
    lock or cursor ever outlives a check (the server refuses writes on these sessions).
    """


def create_app(settings: ConsentSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """Build the consent service from the environment (or the given settings and clock)."""
    the_settings = settings or load_settings(ConsentSettings)
    the_clock = clock or SystemClock()
    app = create_service_app(spec(the_settings, the_clock), the_settings, clock=the_clock)
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The check path bypasses the ORM pool (and its pre-ping round trip): one statement per check.
        dsn = the_settings.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        async with inner(app):
            pool = await asyncpg.create_pool(
                dsn,
                min_size=1,
                max_size=the_settings.check_pool_size,
                server_settings={"timezone": "UTC", "default_transaction_read_only": "on"},
                reset=_keep_session,
            )
            app.state.check_pool = pool
            try:
                yield
            finally:
                await pool.close()

    app.router.lifespan_context = lifespan
    return app
