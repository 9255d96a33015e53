"""The retention service: application factory."""

from __future__ import annotations

from fastapi import FastAPI

from services.retention.api import router
from services.retention.handlers import SUBSCRIPTIONS
from services.retention.settings import RetentionSettings
from shared.clock import Clock
from shared.service import ServiceSpec, create_service_app
from shared.settings import load_settings

SPEC = ServiceSpec(
    name="retention",
    title="privops retention",
    description="Retention policies that execute: sweeps, subject schedules, legal holds and evidence.",
    routers=[router],
    subscriptions=SUBSCRIPTIONS,
)


def create_app(settings: RetentionSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """Build the retention service from the environment (or the given settings and clock)."""
    return create_service_app(SPEC, settings or load_settings(RetentionSettings), clock=clock)
