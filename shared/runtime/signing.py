"""Documents signed for a tenant (certificates of erasure, consent receipts), checkable by anyone.

The identity service holds each tenant's document keys and signs on request
(``POST /v1/signatures``); the public keys are at
``<identity>/.well-known/privops/tenants/<tenant>/jwks.json``, so a regulator, a customer or the
data subject verifies a document offline with a standard JWT library (see ``shared.rules.keys``).
In the explicit development mode (no identity service) a service derives the tenant's key from
its ``SIGNING_KEY`` instead, and publishes the same kind of key set itself.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from shared.rules import keys
from shared.rules.errors import NotFound
from shared.runtime.auth import TENANT_PATTERN
from shared.runtime.http import http_client
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.settings import ServiceSettings
from shared.runtime.tokens import TokenRequestFailed, service_tokens

SIGN_SCOPE = "identity:sign"
JWKS_CACHE_S = 300.0


class SigningFailed(RuntimeError):
    """The document could not be signed (the identity service refused or was unreachable)."""


class DocumentSigner(Protocol):
    """Signs a tenant's documents and tells where (and with what) to verify them."""

    async def sign(self, tenant: str, typ: str, claims: dict[str, Any]) -> str:
        """A compact JWS of ``claims`` signed with the tenant's document key."""
        ...

    async def jwks(self, tenant: str) -> dict[str, Any]:
        """The tenant's public document keys (every version ever used)."""
        ...

    def jwks_url(self, tenant: str) -> str:
        """Where anyone fetches those keys."""
        ...


def tenant_jwks_path(tenant: str) -> str:
    """The well-known path of a tenant's document keys."""
    return f"/.well-known/privops/tenants/{tenant}/jwks.json"


class IssuerSigner:
    """Signatures made by the identity service with the tenant's key."""

    def __init__(self, settings: ServiceSettings) -> None:
        assert settings.identity_url
        self.settings = settings
        self.base = settings.identity_url.rstrip("/")
        self._jwks: dict[str, tuple[dict[str, Any], float]] = {}

    async def sign(self, tenant: str, typ: str, claims: dict[str, Any]) -> str:
        try:
            token = await service_tokens(self.settings).token(tenant, [SIGN_SCOPE])
            async with http_client(timeout=10.0) as client:
                response = await client.post(
                    f"{self.base}/v1/signatures",
                    json={"typ": typ, "claims": claims},  # the token names the tenant
                    headers={"Authorization": f"Bearer {token}"},
                )
        except (httpx.HTTPError, TokenRequestFailed) as exc:
            raise SigningFailed(f"identity service: {exc}") from exc
        if response.status_code != 200:
            raise SigningFailed(f"signature refused ({response.status_code}): {response.text[:300]}")
        return str(response.json()["jws"])

    async def jwks(self, tenant: str) -> dict[str, Any]:
        cached = self._jwks.get(tenant)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        async with http_client(timeout=10.0) as client:
            response = await client.get(self.jwks_url(tenant))
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        self._jwks[tenant] = (body, time.time() + JWKS_CACHE_S)
        return body

    def jwks_url(self, tenant: str) -> str:
        return self.base + tenant_jwks_path(tenant)


class LocalSigner:
    """Development mode: the tenant's document key derived from the service's ``SIGNING_KEY`` (HKDF)."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self._secret = settings.signing_key.get_secret_value().encode()

    def _key(self, tenant: str) -> tuple[Ed25519PrivateKey, str]:
        key = keys.derive_private_key(self._secret, f"privops document key v1 tenant:{tenant}")
        return key, keys.thumbprint_kid(key.public_key())

    async def sign(self, tenant: str, typ: str, claims: dict[str, Any]) -> str:
        key, kid = self._key(tenant)
        return keys.sign(key, kid, {"iss": self.issuer(tenant), "iat": int(time.time()), **claims}, typ=typ)

    async def jwks(self, tenant: str) -> dict[str, Any]:
        key, kid = self._key(tenant)
        return {"keys": [keys.public_jwk(key, kid)]}

    def issuer(self, tenant: str) -> str:
        """The ``iss`` of the tenant's documents."""
        return f"{self.settings.public_url.rstrip('/')}/tenants/{tenant}"

    def jwks_url(self, tenant: str) -> str:
        return self.settings.public_url.rstrip("/") + tenant_jwks_path(tenant)


def document_signer(settings: ServiceSettings) -> DocumentSigner:
    """The identity service's signer, or the development one when no identity service is configured."""
    return LocalSigner(settings) if settings.development_keys else IssuerSigner(settings)


def document_keys_router() -> APIRouter:
    """A tenant's public document keys at the well-known path, on every service, for anyone without a token.

    In the development mode the service serves the keys it derives; otherwise it redirects (307) to
    the identity service, which holds and publishes them.
    """
    router = APIRouter(tags=["operations"])

    @router.get(
        tenant_jwks_path("{tenant}"),
        summary="A tenant's public document keys",
        responses={
            307: {"description": "The identity service publishes the keys (outside the development mode)"},
            404: PROBLEM_RESPONSES[404],
        },
    )
    async def tenant_jwks(tenant: str, request: Request) -> Any:
        if not TENANT_PATTERN.match(tenant):
            raise NotFound(f"No document keys for {tenant!r}.")
        settings: ServiceSettings = request.app.state.settings
        signer = document_signer(settings)
        if not settings.development_keys:
            return RedirectResponse(signer.jwks_url(tenant), status_code=307)
        return await signer.jwks(tenant)

    return router
