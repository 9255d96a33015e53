"""Settings of the consent service (environment variables prefixed ``CONSENT_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.runtime.settings import ServiceSettings


class ConsentSettings(ServiceSettings):
    """Configuration of the consent service."""

    model_config = SettingsConfigDict(env_prefix="CONSENT_", extra="ignore", frozen=True)

    service_name: str = "consent"
    check_pool_size: int = Field(
        default=10,
        ge=1,
        le=200,
        description="Connections of the direct pool behind the hot paths (checks, single decisions)",
    )
