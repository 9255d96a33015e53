"""Settings of the notify service (environment variables prefixed ``NOTIFY_``)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.notify.domain import RetryPolicy
from shared.runtime.settings import Environment, ServiceSettings


class NotifySettings(ServiceSettings):
    """Configuration of the notify service: the SMTP relay, delivery pacing and links in alerts."""

    model_config = SettingsConfigDict(env_prefix="NOTIFY_", extra="ignore", frozen=True)

    service_name: str = "notify"
    smtp_host: str = Field(default="127.0.0.1", description="SMTP relay host")
    smtp_port: int = Field(default=1025, ge=1, le=65535, description="SMTP relay port (587 for submission)")
    smtp_starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS before AUTH")
    smtp_username: str | None = Field(default=None, description="AUTH login, when the relay requires one")
    smtp_password: SecretStr | None = Field(default=None, description="AUTH password")
    smtp_ca_file: str | None = Field(
        default=None, description="PEM file of a private CA to trust for STARTTLS (the local stack's certificate)"
    )
    smtp_from: str = Field(default="privops <no-reply@privops.local>", description="From when a tenant sets none")
    smtp_timeout_s: float = Field(default=15.0, gt=0, le=120, description="Timeout of one SMTP conversation")
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=60, description="Timeout of one webhook delivery")
    claim_timeout_s: float = Field(default=10.0, gt=0, le=60, description="Timeout of fetching one message's claim")
    bounce_window_s: float = Field(
        default=0.0, ge=0, description="Seconds without a bounce before a mail counts as delivered (0: at once)"
    )
    delivery_interval_s: float = Field(default=2.0, gt=0, description="How often due messages are delivered")
    delivery_batch: int = Field(default=50, ge=1, le=1000, description="Messages delivered per job run at most")
    retry_max_attempts: int = Field(default=8, ge=1, le=30, description="Attempts before a message fails")
    retry_base_s: float = Field(default=30.0, gt=0, description="Wait before the first retry (doubles, jittered)")
    retry_cap_s: float = Field(default=7200.0, gt=0, description="Longest wait between two attempts")
    portal_url: str | None = Field(default=None, description="Base URL of the privacy team's portal, for links")
    service_urls: dict[str, str] = Field(
        default_factory=dict,
        description='Public API URL of each service, for links when no portal is set (JSON: {"dsar": "https://…"})',
    )

    @property
    def retry_policy(self) -> RetryPolicy:
        """The backoff of transient failures."""
        return RetryPolicy(
            max_attempts=self.retry_max_attempts,
            base=timedelta(seconds=self.retry_base_s),
            cap=timedelta(seconds=self.retry_cap_s),
        )

    @property
    def allows_plain_http_webhooks(self) -> bool:
        """Only local and test environments may deliver webhooks to http:// endpoints."""
        return self.environment in (Environment.LOCAL, Environment.TEST)
