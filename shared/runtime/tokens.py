"""A service's own bearer tokens: OAuth 2.0 client credentials at the identity service.

A privops service calling another (a store uploading an export to DSAR, notify claiming a
message's content) holds no signing key: it asks the identity service for a short token with the
scopes it needs, for the tenant it acts for (RFC 6749 §4.4), and reuses it until shortly before
it expires. Only in the explicit development mode (``JWT_SECRET`` set, no ``IDENTITY_URL``) does
it sign an HS256 token itself. The identity service, which holds the token keys, signs its own
tokens (``issue_locally``) rather than asking itself over HTTP.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta

import httpx

from shared.runtime.auth import issue_token
from shared.runtime.http import http_client
from shared.runtime.settings import ServiceSettings

# A cached token is replaced this long before it expires, so a receiver never sees it expire in flight.
REFRESH_MARGIN_S = 60.0
DEV_TOKEN_TTL = timedelta(minutes=5)


# ``(tenant, scopes) -> (token, expires_in seconds)``: how the token issuer makes its own tokens.
LocalIssuer = Callable[[str, tuple[str, ...]], Awaitable[tuple[str, float]]]


class TokenRequestFailed(RuntimeError):
    """The identity service refused or could not be reached; the reason names its answer."""


class ServiceTokens:
    """Tokens of one service, per (tenant, scopes), cached until shortly before expiry."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self._cache: dict[tuple[str, tuple[str, ...]], tuple[str, float]] = {}
        self._lock = asyncio.Lock()
        self._issuer: LocalIssuer | None = None

    def issue_locally(self, issuer: LocalIssuer) -> None:
        """Sign tokens with ``issuer`` instead of asking the identity service (the identity service itself)."""
        self._issuer = issuer

    @property
    def subject(self) -> str:
        """Who the tokens name: ``service:<name>``."""
        return f"service:{self.settings.service_name}"

    async def token(self, tenant: str, scopes: Iterable[str]) -> str:
        """A token for ``tenant`` holding ``scopes`` (raises ``TokenRequestFailed``)."""
        wanted = tuple(sorted(set(scopes)))
        key = (tenant, wanted)
        cached = self._cache.get(key)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        if self.settings.development_keys:
            assert self.settings.jwt_secret is not None
            # Wall-clock time, not the service clock: the receiver checks expiry against real time.
            token = issue_token(
                self.settings.jwt_secret.get_secret_value(),
                tenant,
                wanted,
                now=datetime.now(UTC),
                subject=self.subject,
                ttl=DEV_TOKEN_TTL,
            )
            self._cache[key] = (token, time.time() + DEV_TOKEN_TTL.total_seconds() - REFRESH_MARGIN_S)
            return token
        async with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached[1] > time.time():
                return cached[0]
            issue = self._issuer or self._request
            token, expires_in = await issue(tenant, wanted)
            self._cache[key] = (token, time.time() + max(1.0, expires_in - REFRESH_MARGIN_S))
            if len(self._cache) > 10_000:  # one entry per tenant and scope set: bounded in practice
                self._cache.pop(next(iter(self._cache)))
            return token

    async def _request(self, tenant: str, scopes: tuple[str, ...]) -> tuple[str, float]:
        settings = self.settings
        assert settings.identity_url
        assert settings.client_id
        assert settings.client_secret
        try:
            async with http_client(timeout=10.0) as client:
                response = await client.post(
                    f"{settings.identity_url.rstrip('/')}/oauth/token",
                    data={"grant_type": "client_credentials", "scope": " ".join(scopes), "tenant": tenant},
                    auth=(settings.client_id, settings.client_secret.get_secret_value()),
                )
        except httpx.HTTPError as exc:
            raise TokenRequestFailed(f"identity service unreachable: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise TokenRequestFailed(f"token refused ({response.status_code}): {response.text[:300]}")
        body = response.json()
        return str(body["access_token"]), float(body.get("expires_in", 300))


_registry: dict[int, ServiceTokens] = {}


def service_tokens(settings: ServiceSettings) -> ServiceTokens:
    """The token source of a service's settings (one per settings object, so its cache is shared)."""
    source = _registry.get(id(settings))
    if source is None or source.settings is not settings:
        source = _registry[id(settings)] = ServiceTokens(settings)
    return source
