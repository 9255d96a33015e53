"""Settings: one small pydantic-settings class per service, each with its own env prefix.

A service refuses to start on a missing, malformed or placeholder value, and says which
environment variable is wrong.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"changethis", "change-me", "changeme", "secret", "password", "xxx"}
MIN_SECRET_LENGTH = 32


def real_secret(value: SecretStr) -> SecretStr:
    """``value`` when it is a real secret; a ValueError naming the fix when it is a placeholder or too short."""
    raw = value.get_secret_value()
    if raw.lower() in PLACEHOLDER_SECRETS:
        raise ValueError(
            "is a placeholder; generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    if len(raw) < MIN_SECRET_LENGTH:
        raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters long")
    return value


class Environment(StrEnum):
    """Where the service runs; ``local`` relaxes rules meant for the internet (https webhooks)."""

    LOCAL = "local"
    TEST = "test"
    PRODUCTION = "production"


class Role(StrEnum):
    """What a process of a service runs: the HTTP API, the background work (relay, consumers, jobs), or both."""

    ALL = "all"
    API = "api"
    WORKER = "worker"

    @property
    def serves_api(self) -> bool:
        """Whether the service's endpoints are served."""
        return self is not Role.WORKER

    @property
    def runs_background(self) -> bool:
        """Whether the outbox relay, the consumers and the periodic jobs run."""
        return self is not Role.API


class SettingsError(SystemExit):
    """Raised at start-up when the configuration is unusable; the message names each variable."""


class ServiceSettings(BaseSettings):
    """What every service needs; subclasses set ``env_prefix`` (``CONSENT_``, ``DSAR_`` …)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    service_name: str = Field(description="Name of the service, used as event source and metrics label")
    database_url: str = Field(description="SQLAlchemy async URL, e.g. postgresql+asyncpg://u:p@host:5432/consent")
    kafka_bootstrap_servers: str = Field(description="Comma-separated host:port list of the Kafka brokers")
    identity_url: str | None = Field(
        default=None,
        description="Base URL of the privops identity service: tokens are verified with its JWKS, the service's own "
        "tokens come from its token endpoint, documents are signed by it",
    )
    client_id: str | None = Field(default=None, description="This service's OAuth client id at the identity service")
    client_secret: SecretStr | None = Field(default=None, description="This service's OAuth client secret")
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="Development only: an HS256 secret shared by every component (refused in production); "
        "without the identity service, documents are then signed with keys derived from signing_key",
    )
    jwt_jwks_url: str | None = Field(
        default=None, description="JWKS URL of the token issuer (default: the identity service's)"
    )
    jwt_audience: str | None = Field(default=None, description="Expected 'aud' claim, if tokens carry one")
    jwt_issuer: str | None = Field(default=None, description="Expected 'iss' claim, if tokens carry one")
    subject_hash_key: SecretStr = Field(description="Key of the keyed hash that turns identifiers into references")
    signing_key: SecretStr = Field(description="Key used to sign certificates, receipts and webhooks")
    public_url: str = Field(default="http://127.0.0.1:8000", description="Base URL others use to reach this service")
    environment: Environment = Environment.PRODUCTION
    log_level: str = "INFO"
    log_format: str = Field(default="json", description="json, or console for a developer's terminal")
    topic_prefix: str = Field(default="", description="Prefix for every Kafka topic name (test isolation, multi-env)")
    # Connections opened on demand and then kept: with 10 kept and 10 more allowed, every burst past 10 requests
    # opened connections and closed them again as they came back (a connection's set-up and an empty statement
    # cache each time). The ceiling is the same 20 as before.
    db_pool_size: int = Field(default=20, ge=1, le=200, description="Connections kept open at most")
    db_direct_pool_size: int = Field(
        default=10, ge=1, le=200, description="Connections of the direct pool (reads by key, hot paths) kept at most"
    )
    db_max_overflow: int = Field(default=0, ge=0, le=200, description="Connections opened for a burst, then closed")
    db_pool_pre_ping: bool = Field(
        default=True, description="Test a pooled connection idle for over 10 s before use (one round trip then)"
    )
    relay_batch_size: int = Field(default=2000, ge=1, le=20_000, description="Outbox events published per round")
    relay_poll_interval_s: float = Field(default=1.0, gt=0, le=60)
    consumer_session_timeout_ms: int = Field(default=10_000, ge=1_000)
    consumer_max_retries: int = Field(default=3, ge=0, le=20)
    consumer_retry_backoff_s: float = Field(default=0.2, ge=0, le=60)
    consumer_max_event_bytes: int = Field(default=1_048_576, ge=1024, description="Larger events are dead-lettered")
    broker_epoch: bool = Field(
        default=False,
        description="Detect a broker that lost its log (the local Tansu, memory-only) with heartbeat markers, "
        "and replay and rewind after it; leave off against Kafka, whose log survives a restart",
    )
    role: Role = Field(
        default=Role.ALL,
        description="all (one process does everything), api (endpoints only) or worker (relay, consumers, jobs)",
    )
    jobs_enabled: bool = True
    job_interval_s: float = Field(default=30.0, gt=0)

    @field_validator("database_url")
    @classmethod
    def _async_postgres(cls, value: str) -> str:
        if not value.startswith("postgresql+asyncpg://"):
            raise ValueError("must be a postgresql+asyncpg:// URL")
        return value

    @field_validator("jwt_secret", "subject_hash_key", "signing_key", "client_secret")
    @classmethod
    def _real_secret(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is None else real_secret(value)

    @model_validator(mode="after")
    def _one_way_to_trust_tokens(self) -> ServiceSettings:
        if self.jwt_secret is not None and self.environment is Environment.PRODUCTION:
            raise ValueError(
                "JWT_SECRET (HS256, one secret shared by every component) is a development option: in production "
                "set IDENTITY_URL (tokens and document signatures from the identity service) instead"
            )
        if self.issues_tokens:
            return self
        if self.jwt_secret is None and not (self.identity_url or self.jwt_jwks_url):
            raise ValueError("set IDENTITY_URL (or JWT_JWKS_URL) so tokens can be verified")
        if self.identity_url and self.jwt_secret is None and not (self.client_id and self.client_secret):
            raise ValueError("CLIENT_ID and CLIENT_SECRET are required with IDENTITY_URL (the service's own tokens)")
        return self

    @property
    def issues_tokens(self) -> bool:
        """True for the identity service, which verifies the tokens it signs with its own keys."""
        return False

    @property
    def development_keys(self) -> bool:
        """True in the explicit development mode: HS256 tokens and locally derived document keys, no issuer."""
        return self.jwt_secret is not None and not self.identity_url

    @property
    def jwks_url(self) -> str | None:
        """Where the token issuer publishes its public keys."""
        if self.jwt_jwks_url:
            return self.jwt_jwks_url
        return f"{self.identity_url.rstrip('/')}/.well-known/jwks.json" if self.identity_url else None

    def topic(self, name: str) -> str:
        """The full Kafka topic name for a logical topic name."""
        return f"{self.topic_prefix}{name}"


S = TypeVar("S", bound=ServiceSettings)


def load_settings(cls: type[S], **overrides: Any) -> S:
    """Read settings from the environment (and ``overrides``); exit with a readable message when invalid."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        prefix = str(cls.model_config.get("env_prefix", ""))
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "settings"
            reason = "is required" if err["type"] == "missing" else err["msg"].removeprefix("Value error, ")
            lines.append(f"  {prefix}{field.upper()}: {reason}")
        raise SettingsError(f"{cls.__name__}: invalid configuration\n" + "\n".join(lines)) from None
