"""Settings of the retention service (environment variables prefixed ``RETENTION_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class RetentionSettings(ServiceSettings):
    """Configuration of the retention service."""

    model_config = SettingsConfigDict(env_prefix="RETENTION_", extra="ignore", frozen=True)

    service_name: str = "retention"
    consent_grace_period: str = "P30D"
