"""The consent service: its spec and application factory."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from services.consent.api import ROUTERS
from services.consent.handlers import SUBSCRIPTIONS
from services.consent.jobs import JOBS
from services.consent.service.evidence import EVIDENCE
from services.consent.service.hot.direct import open_direct
from services.consent.service.hot.endpoints import HOT_PATHS
from services.consent.settings import ConsentSettings
from shared.rules.clock import Clock, SystemClock
from shared.runtime.service import ServiceSpec, create_service_app
from shared.runtime.settings import load_settings

SPEC = ServiceSpec(
    name="consent",
    title="privops consent",
    description="Consent records with proof, checks for product backends, expiry, GPC and receipts.",
    routers=ROUTERS,
    hot_paths=HOT_PATHS,
    subscriptions=SUBSCRIPTIONS,
    jobs=JOBS,
    evidence=EVIDENCE,
    openapi_tags=[
        {"name": "purposes", "description": "The purpose catalogue, notice versions and the controller profile"},
        {"name": "consents", "description": "Record, withdraw and read consent decisions with their proof"},
        {"name": "checks", "description": "The hot path for product backends, and subject histories"},
        {"name": "notices", "description": "Who was told of a material notice change, and each message's status"},
        {
            "name": "public notices",
            "description": "Published notice texts and their history, the change banner, unsubscribing (no token)",
        },
        {"name": "imports", "description": "Bulk import of existing consents (NDJSON, CSV), resumable"},
        {
            "name": "receipts",
            "description": "Signed consent receipts (ISO/IEC TS 27560), their mail to the person, the tenant's keys",
        },
    ],
)


def create_app(settings: ConsentSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """Build the consent service from the environment (or the given settings and clock)."""
    the_settings = settings or load_settings(ConsentSettings)
    the_clock = clock or SystemClock()
    app = create_service_app(SPEC, the_settings, clock=the_clock)
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with inner(app):
            if not the_settings.role.serves_api:  # a worker answers DSAR tasks through the ORM only
                yield
                return
            async with open_direct(the_settings, the_clock, app.state.runtime.database) as direct:
                app.state.direct = direct
                yield

    app.router.lifespan_context = lifespan
    return app
