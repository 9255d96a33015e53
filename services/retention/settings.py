"""Settings of the retention service (environment variables prefixed ``RETENTION_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.runtime.settings import ServiceSettings


class RetentionSettings(ServiceSettings):
    """Configuration of the retention service."""

    model_config = SettingsConfigDict(env_prefix="RETENTION_", extra="ignore", frozen=True)

    service_name: str = "retention"
    consent_grace_period: str = Field(
        default="P30D", description="After a consent ends, how long before the data kept on it is due (ISO 8601)"
    )
    sweep_every: str = Field(default="P1D", description="How often each system and category is swept (ISO 8601)")
    sweep_answer_timeout: str = Field(
        default="PT6H", description="How long a store has to answer a sweep before it is sent again (ISO 8601)"
    )
    sweep_max_attempts: int = Field(default=3, ge=1, le=20, description="Publications before a sweep is escalated")
    sweep_job_interval_s: float = Field(default=60.0, gt=0)
    schedule_job_interval_s: float = Field(default=30.0, gt=0)
    schedule_claim_size: int = Field(default=5000, ge=1, le=50_000, description="Due schedules claimed per batch")
    schedule_workers: int = Field(default=2, ge=1, le=16, description="Batches claimed side by side per replica")
    subjects_per_command: int = Field(default=1000, ge=1, le=5000, description="Subject refs per sweep command")
