"""The notify service: application factory."""

from __future__ import annotations

from fastapi import FastAPI

from services.notify.api import ROUTERS
from services.notify.handlers import SUBSCRIPTIONS
from services.notify.jobs import JOBS
from services.notify.service.evidence import EVIDENCE
from services.notify.settings import NotifySettings
from shared.rules.clock import Clock
from shared.runtime.service import ServiceSpec, create_service_app
from shared.runtime.settings import load_settings

SPEC = ServiceSpec(
    name="notify",
    title="privops notify",
    description="Delivers every message of the platform: email over SMTP and signed webhooks, from per-tenant "
    "templates in the recipient's language, with a delivery log per message and alerts to the privacy team.",
    routers=ROUTERS,
    subscriptions=SUBSCRIPTIONS,
    jobs=JOBS,
    evidence=EVIDENCE,
    openapi_tags=[
        {"name": "messages", "description": "Messages and their delivery log; retries and bounces"},
        {"name": "profile", "description": "Sender, brand, default locale and the privacy team's alert targets"},
        {"name": "templates", "description": "Templates, previews and the tenant's own versions"},
    ],
)


def create_app(settings: NotifySettings | None = None, clock: Clock | None = None) -> FastAPI:
    """Build the notify service from the environment (or the given settings and clock)."""
    return create_service_app(SPEC, settings or load_settings(NotifySettings), clock=clock)
