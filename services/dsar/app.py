"""The dsar service: application factory."""

from __future__ import annotations

from fastapi import FastAPI

from services.dsar.settings import DsarSettings
from shared.clock import Clock
from shared.service import ServiceSpec, create_service_app
from shared.settings import load_settings

SPEC = ServiceSpec(
    name="dsar",
    title="privops DSAR",
    description="Data subject rights requests with legal deadlines, fan-out to every data store and proof of erasure.",
)


def create_app(settings: DsarSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """Build the dsar service from the environment (or the given settings and clock)."""
    return create_service_app(SPEC, settings or load_settings(DsarSettings), clock=clock)
