"""Settings of the dsar service (environment variables prefixed ``DSAR_``)."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.runtime.settings import Environment, ServiceSettings


class DsarSettings(ServiceSettings):
    """Configuration of the dsar service."""

    model_config = SettingsConfigDict(env_prefix="DSAR_", extra="ignore", frozen=True)

    service_name: str = "dsar"
    data_key: SecretStr | None = Field(
        default=None, description="Key encrypting identifiers at rest (AES-GCM); derived from signing_key when unset"
    )
    verification_code_ttl_s: int = Field(default=1800, ge=60, description="How long a one-time code is valid")
    verification_max_attempts: int = Field(default=5, ge=1, le=20, description="Wrong codes before the code locks")
    task_ack_timeout_s: float = Field(default=3600.0, gt=0, description="Re-publish a task not claimed after this")
    task_max_attempts: int = Field(default=5, ge=1, le=20, description="Publications of a task before escalation")
    task_due_days: int = Field(default=7, ge=1, description="A store's time to answer, capped by the legal due date")
    approaching_days: int = Field(default=7, ge=1, description="Warn this many days before a request is due")
    package_ttl_hours: int = Field(default=168, ge=1, description="Lifetime of an access package's download link")
    portal_url: str | None = Field(
        default=None,
        description="The portal as people reach it: the mailed download link then opens its page for the package "
        "(/p/{tenant}/packages/{id}?token=...), which says clearly when the link has expired",
    )
    notification_ttl_hours: int = Field(default=72, ge=1, description="How long the notify service may claim a message")
    portability_loopback: bool = Field(
        default=False,
        description="Development and tests: a portability request may name an http:// or https:// endpoint on "
        "127.0.0.1, ::1 or localhost (refused in production)",
    )
    portability_max_attempts: int = Field(default=6, ge=1, le=20, description="Sends of a package before giving up")
    portability_retry_base_s: float = Field(default=60.0, gt=0, description="Wait after a first failed send (doubles)")
    portability_retry_max_s: float = Field(default=21600.0, gt=0, description="Longest wait between two sends")
    portability_timeout_s: float = Field(default=30.0, gt=0, le=300, description="Time a receiver has to answer")

    @model_validator(mode="after")
    def _no_loopback_in_production(self) -> DsarSettings:
        if self.portability_loopback and self.environment is Environment.PRODUCTION:
            raise ValueError(
                "DSAR_PORTABILITY_LOOPBACK lets requests send packages to this machine: development and tests only"
            )
        return self

    contract_end_return_days: int = Field(
        default=30,
        ge=1,
        description="After a contract end's returned data is ready, deletion starts at its download or after this",
    )
    contract_end_job_interval_s: float = Field(
        default=30.0,
        gt=0,
        description="How often the contract-end job starts due contract ends, moves them on and re-publishes tasks",
    )
