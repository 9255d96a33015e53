"""Settings of the dsar service (environment variables prefixed ``DSAR_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class DsarSettings(ServiceSettings):
    """Configuration of the dsar service."""

    model_config = SettingsConfigDict(env_prefix="DSAR_", extra="ignore", frozen=True)

    service_name: str = "dsar"
