"""The consent service: application factory."""

from __future__ import annotations

from fastapi import FastAPI

from services.consent.api import router
from services.consent.settings import ConsentSettings
from shared.clock import Clock
from shared.service import ServiceSpec, create_service_app
from shared.settings import load_settings

SPEC = ServiceSpec(
    name="consent",
    title="privops consent",
    description="Consent records with proof, checks for product backends, expiry, GPC and receipts.",
    routers=[router],
)


def create_app(settings: ConsentSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """Build the consent service from the environment (or the given settings and clock)."""
    return create_service_app(SPEC, settings or load_settings(ConsentSettings), clock=clock)
