"""The dsar service: application factory."""

from __future__ import annotations

from fastapi import FastAPI

from services.dsar.api import ROUTERS
from services.dsar.handlers import SUBSCRIPTIONS
from services.dsar.jobs import JOBS
from services.dsar.service.evidence import EVIDENCE
from services.dsar.settings import DsarSettings
from shared.rules.clock import Clock
from shared.runtime.service import ServiceSpec, create_service_app
from shared.runtime.settings import load_settings

SPEC = ServiceSpec(
    name="dsar",
    title="privops DSAR",
    description="Data subject rights requests with legal deadlines, fan-out to every data store and proof of erasure.",
    routers=ROUTERS,
    subscriptions=SUBSCRIPTIONS,
    jobs=JOBS,
    evidence=EVIDENCE,
    openapi_tags=[
        {"name": "requests", "description": "Intake, identity verification, deadlines, refusal and results"},
        {"name": "tasks (stores)", "description": "Claim check and export upload, called by the data stores"},
        {
            "name": "tasks (by hand)",
            "description": "Manual systems' tasks closed by a person with the evidence; a store's task closed or "
            "retried by an admin",
        },
        {"name": "systems", "description": "The data-system registry (data map) and Art. 19 recipients"},
        {"name": "settings", "description": "The public-holiday calendar of each regime's deadlines"},
        {"name": "delivery", "description": "Message claims for senders, package downloads, certificate checks"},
        {
            "name": "portability",
            "description": "Packages sent to another controller (GDPR Art. 20(2)) and the package's JSON Schema",
        },
        {
            "name": "contract ends",
            "description": "A customer's (tenant's) data returned and destroyed in every system, with a signed "
            "certificate of destruction (GDPR Art. 28(3)(g)); four eyes",
        },
    ],
)


def create_app(settings: DsarSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """Build the dsar service from the environment (or the given settings and clock)."""
    return create_service_app(SPEC, settings or load_settings(DsarSettings), clock=clock)
