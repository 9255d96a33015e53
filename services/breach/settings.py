"""Settings of the breach service (environment variables prefixed ``BREACH_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class BreachSettings(ServiceSettings):
    """Configuration of the breach service."""

    model_config = SettingsConfigDict(env_prefix="BREACH_", extra="ignore", frozen=True)

    service_name: str = "breach"
