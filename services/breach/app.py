"""The breach service: application factory."""

from __future__ import annotations

from fastapi import FastAPI

from services.breach.api import ROUTERS
from services.breach.handlers import SUBSCRIPTIONS
from services.breach.jobs import JOBS
from services.breach.service.evidence import EVIDENCE
from services.breach.settings import BreachSettings
from shared.rules.clock import Clock
from shared.runtime.service import ServiceSpec, create_service_app
from shared.runtime.settings import load_settings

SPEC = ServiceSpec(
    name="breach",
    title="privops breach",
    description="Personal-data breach register, severity assessment, legal clocks and notices.",
    routers=ROUTERS,
    subscriptions=SUBSCRIPTIONS,
    jobs=JOBS,
    evidence=EVIDENCE,
    openapi_tags=[
        {"name": "incidents", "description": "The breach register: facts, timeline, ENISA assessment, clocks"},
        {"name": "notices", "description": "Notices to the authority, customers and people, in stages; deliveries"},
        {"name": "settings", "description": "Whom notices name and go to: contact point, authorities, customers"},
    ],
)


def create_app(settings: BreachSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """Build the breach service from the environment (or the given settings and clock)."""
    return create_service_app(SPEC, settings or load_settings(BreachSettings), clock=clock)
