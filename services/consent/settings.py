"""Settings of the consent service (environment variables prefixed ``CONSENT_``)."""

from __future__ import annotations

from pydantic import Field, SecretStr
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
    data_key: SecretStr | None = Field(
        default=None,
        description="Key sealing the addresses receipts are mailed to (AES-GCM); derived from signing_key when unset",
    )
    receipt_claim_ttl_hours: int = Field(
        default=72,
        ge=1,
        le=24 * 30,
        description="How long the notify service may claim a receipt's mail; the address is purged then at the latest",
    )

    def data_secret(self) -> str:
        """The secret the data key is derived from (``data_key``, else ``signing_key``)."""
        return (self.data_key or self.signing_key).get_secret_value()
