"""The retention service: application factory."""

from __future__ import annotations

from fastapi import FastAPI

from services.retention.api import ROUTERS
from services.retention.handlers import SUBSCRIPTIONS
from services.retention.jobs import JOBS
from services.retention.service.evidence import EVIDENCE
from services.retention.settings import RetentionSettings
from shared.rules.clock import Clock
from shared.runtime.service import ServiceSpec, create_service_app
from shared.runtime.settings import load_settings

SPEC = ServiceSpec(
    name="retention",
    title="privops retention",
    description="Retention policies that execute: sweeps, subject schedules, legal holds and evidence.",
    routers=ROUTERS,
    subscriptions=SUBSCRIPTIONS,
    jobs=JOBS,
    evidence=EVIDENCE,
    openapi_tags=[
        {"name": "policies", "description": "Retention policies per tenant, versioned; the default pack"},
        {"name": "schedules", "description": "Subject-level schedules and the account-closure intake"},
        {"name": "systems", "description": "Which systems hold which categories of data"},
        {"name": "holds", "description": "Legal holds: never swept until released"},
        {"name": "sweeps", "description": "Sweeps, their evidence and a preview"},
        {"name": "report", "description": "The retention report of a tenant"},
    ],
)


def create_app(settings: RetentionSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """Build the retention service from the environment (or the given settings and clock)."""
    return create_service_app(SPEC, settings or load_settings(RetentionSettings), clock=clock)
