"""Settings of the dsar service (environment variables prefixed ``DSAR_``)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.runtime.settings import ServiceSettings


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
    notification_ttl_hours: int = Field(default=72, ge=1, description="How long the notify service may claim a message")
    contract_end_return_days: int = Field(
        default=30,
        ge=1,
        description="After a contract end's returned data is ready, deletion starts at its download or after this",
    )
