"""Settings of the consent service (environment variables prefixed ``CONSENT_``)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.runtime.settings import ServiceSettings


class ConsentSettings(ServiceSettings):
    """Configuration of the consent service."""

    model_config = SettingsConfigDict(env_prefix="CONSENT_", extra="ignore", frozen=True)

    service_name: str = "consent"
    data_key: SecretStr | None = Field(
        default=None,
        description="Key sealing the addresses of receipts and notices (AES-GCM); derived from signing_key when unset",
    )
    receipt_claim_ttl_hours: int = Field(
        default=72,
        ge=1,
        le=24 * 30,
        description="How long the notify service may claim a receipt's mail; the address is purged then at the latest",
    )
    portal_url: str | None = Field(
        default=None,
        description="Base URL of the privacy center (portal): notice messages link to {portal_url}/p/{tenant}/consent",
    )
    notice_banner_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="How long a material notice change stays in the public banner after it is published",
    )

    def data_secret(self) -> str:
        """The secret the data key is derived from (``data_key``, else ``signing_key``)."""
        return (self.data_key or self.signing_key).get_secret_value()
