"""Settings of the identity service (environment variables prefixed ``IDENTITY_``)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from shared.runtime.settings import ServiceSettings, real_secret


class IdentitySettings(ServiceSettings):
    """Configuration of the identity service: token lifetimes, key rotation, the key that encrypts keys."""

    model_config = SettingsConfigDict(env_prefix="IDENTITY_", extra="ignore", frozen=True)

    service_name: str = "identity"
    public_url: str = Field(
        default="http://127.0.0.1:8007", description="Base URL of the issuer: the 'iss' of every token it signs"
    )
    key_encryption_key: SecretStr = Field(
        description="Secret from which the AES-GCM key that encrypts every private key at rest is derived"
    )
    token_ttl_s: int = Field(default=600, ge=60, le=86_400, description="Lifetime of an access token (and id token)")
    key_rotation_days: float = Field(default=30.0, gt=0, le=3650, description="Age at which the token key rotates")
    key_check_interval_s: float = Field(default=3600.0, gt=0, description="How often the rotation job looks")
    bootstrap_file: str | None = Field(
        default=None, description='JSON file of clients upserted at start: {"clients": [{client_id, secret, …}]}'
    )
    bootstrap_json: SecretStr | None = Field(
        default=None,
        description="The same JSON inline, for deployments that pass settings but cannot write a file "
        "(docker compose interpolating .env); read only when bootstrap_file is unset",
    )
    code_ttl_s: int = Field(default=60, ge=10, le=600, description="Lifetime of an authorization code")
    invite_ttl_s: int = Field(default=72 * 3600, ge=600, description="Lifetime of a one-time invitation link")
    login_max_failures: int = Field(default=5, ge=1, le=100, description="Failed logins of an account per window")
    login_window_s: int = Field(default=900, ge=60, description="Window of the failed-login limit (15 minutes)")
    argon2_time_cost: int = Field(default=3, ge=1, le=20, description="Argon2id passes (RFC 9106)")
    argon2_memory_kib: int = Field(default=65_536, ge=1024, description="Argon2id memory in KiB (RFC 9106: 64 MiB)")
    argon2_parallelism: int = Field(default=4, ge=1, le=16, description="Argon2id lanes")
    service_urls: dict[str, str] = Field(
        default_factory=dict,
        description='API URL of each service whose evidence a pack gathers (JSON: {"dsar": "https://…", …})',
    )
    evidence_timeout_s: float = Field(
        default=60.0, gt=0, le=600, description="How long an evidence pack waits for one service's evidence"
    )

    @field_validator("key_encryption_key")
    @classmethod
    def _real_key(cls, value: SecretStr) -> SecretStr:
        return real_secret(value)

    @model_validator(mode="after")
    def _one_bootstrap(self) -> IdentitySettings:
        if self.bootstrap_file and self.bootstrap_json is not None:
            raise ValueError("set IDENTITY_BOOTSTRAP_FILE or IDENTITY_BOOTSTRAP_JSON, not both")
        return self

    @property
    def issues_tokens(self) -> bool:
        """The issuer verifies its own tokens with its own keys: it needs no IDENTITY_URL or client of its own."""
        return True

    @property
    def issuer(self) -> str:
        """The 'iss' of the tokens this service signs (its public URL, no trailing slash)."""
        return self.public_url.rstrip("/")

    @property
    def token_ttl(self) -> timedelta:
        """Lifetime of the tokens this service signs."""
        return timedelta(seconds=self.token_ttl_s)
