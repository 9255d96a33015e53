"""The subprocessor service: application factory."""

from __future__ import annotations

from fastapi import FastAPI

from services.subprocessor.settings import SubprocessorSettings
from shared.clock import Clock
from shared.service import ServiceSpec, create_service_app
from shared.settings import load_settings

SPEC = ServiceSpec(
    name="subprocessor",
    title="privops subprocessor",
    description="Subprocessor register, advance change notices, objection windows and delivery evidence.",
)


def create_app(settings: SubprocessorSettings | None = None, clock: Clock | None = None) -> FastAPI:
    """Build the subprocessor service from the environment (or the given settings and clock)."""
    return create_service_app(SPEC, settings or load_settings(SubprocessorSettings), clock=clock)
