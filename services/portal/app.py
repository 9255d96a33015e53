"""The portal: application factory (pages rendered on the server, vendored static files)."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from services.portal.api import ROUTERS
from services.portal.api.deps import Portal, templates
from services.portal.handlers import SUBSCRIPTIONS
from services.portal.jobs import JOBS
from services.portal.service.backends import Backends
from services.portal.service.sealing import Sealer
from services.portal.settings import PortalSettings
from shared.rules.clock import Clock, SystemClock
from shared.runtime.service import ServiceSpec, create_service_app
from shared.runtime.settings import load_settings

STATIC = Path(__file__).resolve().parent / "static"

SPEC = ServiceSpec(
    name="portal",
    title="privops portal",
    description="The privacy center where people exercise their rights and manage consent, and the console "
    "where the privacy team works its queues. Pages only: it talks to the other services through their APIs.",
    routers=ROUTERS,
    subscriptions=SUBSCRIPTIONS,
    jobs=JOBS,
    owns_tables=False,  # no tables: the services it calls refuse an ended tenant's tokens
)


def create_app(
    settings: PortalSettings | None = None,
    clock: Clock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Build the portal from the environment (or the given settings, clock and transport to the services)."""
    the_settings = settings or load_settings(PortalSettings)
    the_clock = clock or SystemClock()
    app = create_service_app(SPEC, the_settings, clock=the_clock)
    app.state.portal = Portal(
        settings=the_settings,
        backends=Backends(the_settings, transport),
        sealer=Sealer(the_settings.signing_key.get_secret_value()),
        clock=the_clock,
        templates=templates(),
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/console", status_code=303)

    return app
