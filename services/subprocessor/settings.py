"""Settings of the subprocessor service (environment variables prefixed ``SUBPROCESSOR_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class SubprocessorSettings(ServiceSettings):
    """Configuration of the subprocessor service."""

    model_config = SettingsConfigDict(env_prefix="SUBPROCESSOR_", extra="ignore", frozen=True)

    service_name: str = "subprocessor"
