"""Bearer tokens for calling privops: client credentials at the identity service, a fixed token, or
(development only) HS256 tokens signed with the shared secret.

A store or a product backend is an OAuth 2.0 client of the identity service with exactly the scopes
it needs; ``ClientCredentials`` asks for a short token (RFC 6749 §4.4) and reuses it until a minute
before it expires.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import httpx
import jwt

REFRESH_MARGIN_S = 60.0


class TokenRefused(RuntimeError):
    """The identity service refused the client's credentials or scopes (its RFC 6749 error is in the text)."""


class ClientCredentials:
    """Tokens from the identity service's token endpoint for one confidential client."""

    def __init__(self, identity_url: str, client_id: str, client_secret: str, *, timeout: float = 10.0) -> None:
        self.token_url = identity_url.rstrip("/") + "/oauth/token"
        self.client_id = client_id
        self._secret = client_secret
        self._timeout = timeout
        self._cache: dict[tuple[str, ...], tuple[str, float]] = {}
        self._lock = asyncio.Lock()

    async def token(self, tenant: str, scopes: Iterable[str]) -> str:
        """A token with ``scopes`` (a subset of the client's); the client's own tenant applies."""
        wanted = tuple(sorted(set(scopes)))
        async with self._lock:
            cached = self._cache.get(wanted)
            if cached is not None and cached[1] > time.time():
                return cached[0]
            async with httpx.AsyncClient(timeout=self._timeout) as http:
                response = await http.post(
                    self.token_url,
                    data={"grant_type": "client_credentials", "scope": " ".join(wanted)},
                    auth=(self.client_id, self._secret),
                )
            if response.status_code != 200:
                raise TokenRefused(f"{self.token_url} answered {response.status_code}: {response.text[:300]}")
            body = response.json()
            expires_at = time.time() + max(1.0, float(body.get("expires_in", 300)) - REFRESH_MARGIN_S)
            self._cache[wanted] = (str(body["access_token"]), expires_at)
            return str(body["access_token"])


class TokenSigner:
    """Development only: signs short-lived HS256 tokens with the secret every component shares."""

    def __init__(self, secret: str, subject: str, ttl: timedelta = timedelta(minutes=10)) -> None:
        self.secret = secret
        self.subject = subject
        self.ttl = ttl

    async def token(self, tenant: str, scopes: Iterable[str]) -> str:
        """A token for ``tenant`` with ``scopes``; times from the wall clock, as the verifier checks them."""
        now = datetime.now(UTC)
        claims = {
            "sub": self.subject,
            "tenant": tenant,
            "scope": " ".join(sorted(set(scopes))),
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + self.ttl).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.secret, algorithm="HS256")


class StaticToken:
    """One token issued by the identity provider, for one tenant."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def token(self, tenant: str, scopes: Iterable[str]) -> str:
        """The same token whatever is asked (its own tenant and scopes apply)."""
        return self._token
