"""Settings of the portal (environment variables prefixed ``PORTAL_``)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from shared.runtime.settings import Role, ServiceSettings, real_secret


class PortalSettings(ServiceSettings):
    """Where the other services are, and the portal's two identities at the identity service.

    The portal's own client (``client_id``/``client_secret``, a ``service`` client) files requests
    and records consent for people of the privacy center; the console client (``console_client_*``,
    a ``console`` client of one tenant) signs the privacy team in, and the console then acts with
    each person's own access token, never with the portal's.
    """

    model_config = SettingsConfigDict(env_prefix="PORTAL_", extra="ignore", frozen=True)

    service_name: str = "portal"
    # The portal serves pages only: no outbox, no consumer, no job (see handlers.py, jobs.py).
    role: Role = Role.API
    dsar_url: str = Field(default="http://127.0.0.1:8002", description="Base URL of the DSAR service's API")
    consent_url: str = Field(default="http://127.0.0.1:8001", description="Base URL of the consent service's API")
    subprocessor_url: str = Field(
        default="http://127.0.0.1:8005", description="Base URL of the subprocessor service's API"
    )
    breach_url: str = Field(default="http://127.0.0.1:8004", description="Base URL of the breach service's API")
    retention_url: str = Field(default="http://127.0.0.1:8003", description="Base URL of the retention service's API")
    notify_url: str = Field(
        default="http://127.0.0.1:8006", description="Base URL of the notify service's API (the tenant's brand)"
    )
    identity_public_url: str | None = Field(
        default=None, description="The identity service's URL as browsers reach it (default: identity_url)"
    )
    console_client_id: str = Field(default="portal-console", description="The console client at the identity service")
    console_client_secret: SecretStr | None = Field(default=None, description="The console client's secret")
    session_hours: float = Field(default=8.0, gt=0, le=24, description="A console session ends after this long")
    backend_timeout_s: float = Field(default=10.0, gt=0, le=60, description="Timeout of one call to a service")
    shared_cache_s: float = Field(
        default=10.0,
        ge=0,
        le=300,
        description="How long a tenant's brand, purposes, notice texts and banner (alike for every visitor) are "
        "kept before the services are asked again; 0 asks on every page",
    )

    @field_validator("console_client_secret")
    @classmethod
    def _real_console_secret(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is None else real_secret(value)

    @property
    def secure_cookies(self) -> bool:
        """Cookies are ``Secure`` whenever the portal is served over https."""
        return self.public_url.startswith("https://")

    @property
    def browser_identity_url(self) -> str | None:
        """Where the browser is sent to sign in."""
        return (self.identity_public_url or self.identity_url or "").rstrip("/") or None

    @property
    def callback_url(self) -> str:
        """The console client's redirect URI (registered at the identity service)."""
        return f"{self.public_url.rstrip('/')}/console/callback"
