"""Settings of the breach service (environment variables prefixed ``BREACH_``)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.runtime.settings import ServiceSettings


class BreachSettings(ServiceSettings):
    """Configuration of the breach service."""

    model_config = SettingsConfigDict(env_prefix="BREACH_", extra="ignore", frozen=True)

    service_name: str = "breach"
    escalation_hours: list[float] = Field(
        default=[24.0, 4.0], description="Escalation points, in hours before each deadline (JSON list)"
    )
    contract_notice_hours: int | None = Field(
        default=None, gt=0, description="Hours the customer contracts give us, as processor, to tell a customer"
    )
    undue_delay_target_hours: int = Field(default=24, gt=0, description="Working target for 'without undue delay'")
    organisation: str = Field(default="privops tenant", description="Our name, as processor, in customer notices")
    data_key: SecretStr | None = Field(
        default=None,
        description="Key sealing the addresses of the people affected (AES-GCM); derived from signing_key when unset",
    )
    approval_link_hours: int = Field(
        default=72, ge=1, le=24 * 30, description="How long a customer's link to approve a notice to individuals works"
    )

    def data_secret(self) -> str:
        """The secret the data key is derived from (``data_key``, else ``signing_key``)."""
        return (self.data_key or self.signing_key).get_secret_value()
