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
from shared.bus.store import dsar_task_subscription
from shared.rules.clock import Clock, SystemClock
from shared.runtime.service import ServiceSpec, create_service_app
from shared.runtime.settings import load_settings

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
    """Nothing to reset when a connection goes back to the direct pool (saves a round trip per request).

    The pool only runs single statements outside explicit transactions (checks, and single decisions
    written by one statement): no SET, LISTEN, advisory lock or cursor ever outlives a request.
    """


def create_app(settings: ConsentSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """Build the consent service from the environment (or the given settings and clock)."""
    the_settings = settings or load_settings(ConsentSettings)
    the_clock = clock or SystemClock()
    app = create_service_app(spec(the_settings, the_clock), the_settings, clock=the_clock)
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The hot paths bypass the ORM pool (its pre-ping, BEGIN and COMMIT): one statement per request.
        dsn = the_settings.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        async with inner(app):
            if not the_settings.role.serves_api:  # a worker answers DSAR tasks through the ORM only
                yield
                return
            pool = await asyncpg.create_pool(
                dsn,
                min_size=1,
                max_size=the_settings.check_pool_size,
                server_settings={"timezone": "UTC"},
                reset=_keep_session,
            )
            app.state.direct_pool = pool
            try:
                yield
            finally:
                await pool.close()

    app.router.lifespan_context = lifespan
    return app
