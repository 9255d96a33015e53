"""Bearer tokens for calling privops: a fixed token, or HS256 tokens signed per tenant."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import jwt


class TokenSigner:
    """Signs short-lived tokens (``tenant``, ``scope``, ``sub``) with the shared HS256 secret."""

    def __init__(self, secret: str, subject: str, ttl: timedelta = timedelta(minutes=10)) -> None:
        self.secret = secret
        self.subject = subject
        self.ttl = ttl

    def token(self, tenant: str, scopes: Iterable[str]) -> str:
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

    def token(self, tenant: str, scopes: Iterable[str]) -> str:
        """The same token whatever is asked (its own tenant and scopes apply)."""
        return self._token
