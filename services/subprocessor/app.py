"""The subprocessor service: application factory."""

from __future__ import annotations

from fastapi import FastAPI

from services.subprocessor.api import ROUTERS
from services.subprocessor.handlers import SUBSCRIPTIONS
from services.subprocessor.jobs import JOBS
from services.subprocessor.service.evidence import EVIDENCE
from services.subprocessor.settings import SubprocessorSettings
from shared.rules.clock import Clock
from shared.runtime.service import ServiceSpec, create_service_app
from shared.runtime.settings import load_settings

SPEC = ServiceSpec(
    name="subprocessor",
    title="privops subprocessor",
    description=(
        "Subprocessor register, advance change notices, objection windows, delivery evidence, and demands "
        "from public authorities."
    ),
    routers=ROUTERS,
    subscriptions=SUBSCRIPTIONS,
    jobs=JOBS,
    evidence=EVIDENCE,
    openapi_tags=[
        {"name": "register", "description": "Subprocessors, their history, customers and what they use"},
        {"name": "changes", "description": "Change proposals, notices, objections and resolutions"},
        {"name": "demands", "description": "Demands from public authorities, their review, disclosures and notices"},
        {"name": "public", "description": "Published list and feed; customers' answers to notices (no bearer token)"},
    ],
)


def create_app(settings: SubprocessorSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """Build the subprocessor service from the environment (or the given settings and clock)."""
    return create_service_app(SPEC, settings or load_settings(SubprocessorSettings), clock=clock)
