"""Settings of the subprocessor service (environment variables prefixed ``SUBPROCESSOR_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.runtime.settings import Environment, ServiceSettings


class SubprocessorSettings(ServiceSettings):
    """Configuration of the subprocessor service."""

    model_config = SettingsConfigDict(env_prefix="SUBPROCESSOR_", extra="ignore", frozen=True)

    service_name: str = "subprocessor"
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=60, description="Timeout of one webhook delivery")
    webhook_max_attempts: int = Field(default=8, ge=1, le=30, description="Deliveries tried before giving up")
    webhook_backoff_base_s: float = Field(default=30.0, gt=0, description="Wait before the first retry (doubles)")
    portal_url: str | None = Field(
        default=None,
        description="The portal as customers reach it: notice mails then link to its page for the notice "
        "(/p/{tenant}/notices/{id}?token=...), where the customer acknowledges or objects",
    )
    delivery_interval_s: float = Field(default=5.0, gt=0, description="How often pending notices are delivered")
    effective_interval_s: float = Field(default=60.0, gt=0, description="How often changes are checked")
    deferral_interval_s: float = Field(
        default=300.0, gt=0, description="How often lapsed deferrals of authority demands are looked for"
    )

    @property
    def allows_plain_http_webhooks(self) -> bool:
        """Only local and test environments may deliver notices to http:// endpoints."""
        return self.environment in (Environment.LOCAL, Environment.TEST)
