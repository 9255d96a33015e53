"""The token endpoint's grants: client credentials (RFC 6749 §4.4) and, for consoles, authorization code.

Token times come from the wall clock, not the service clock: every receiver checks ``exp`` against
its own real time, so a token dated by a test's or a time-travelling stack's clock would be refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import structlog

from services.identity.domain import clients as client_rules
from services.identity.domain import tokens as rules
from services.identity.domain.clients import ClientKind
from services.identity.domain.errors import UnauthorizedClient
from services.identity.models import Client
from services.identity.service import Uow
from services.identity.service.clients import kind_of
from services.identity.service.crypto import sign
from services.identity.service.keys import token_signing_key
from services.identity.settings import IdentitySettings
from shared.rules.clock import SystemClock
from shared.runtime.auth import TENANT_PATTERN
from shared.runtime.jobs import JobContext

log = structlog.get_logger("privops.identity.tokens")
WALL_CLOCK = SystemClock()
CLIENT_CREDENTIALS = "client_credentials"
AUTHORIZATION_CODE = "authorization_code"
GRANT_TYPES = (CLIENT_CREDENTIALS, AUTHORIZATION_CODE)
OWN_SUBJECT = "service:identity"  # who the identity service's own tokens name, as every service's do


async def sign_access_token(
    uow: Uow, *, subject: str, scopes: Sequence[str], client_id: str, extra: dict[str, Any] | None = None
) -> tuple[str, dict[str, Any]]:
    """An access token for the unit's tenant, signed with the active token key; with its claims."""
    claims = rules.access_claims(
        issuer=uow.settings.issuer,
        subject=subject,
        tenant=uow.tenant_id,
        scopes=scopes,
        client_id=client_id,
        now=WALL_CLOCK.now(),
        ttl=uow.settings.token_ttl,
        jti=uuid.uuid4().hex,
        extra=extra,
    )
    token = sign(await token_signing_key(uow), rules.ACCESS_TOKEN_TYPE, claims)
    uow.audit("token.issued", "client", client_id, {"jti": claims["jti"], "scope": claims["scope"]})
    return token, claims


def token_response(token: str, claims: dict[str, Any], **extra: str) -> dict[str, Any]:
    """The JSON of a successful token response (RFC 6749 §5.1)."""
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": claims["exp"] - claims["iat"],
        "scope": claims["scope"],
        **extra,
    }


async def client_credentials(uow: Uow, client: Client, params: dict[str, str]) -> dict[str, Any]:
    """A token for the client itself: its scopes (or fewer), its tenant (or the one named, for ``*`` clients)."""
    kind = kind_of(client)
    if kind is ClientKind.CONSOLE:
        raise UnauthorizedClient("a console client signs people in: it uses the authorization_code grant")
    tenant = rules.target_tenant(client.tenant_id, params.get("tenant"), lambda t: bool(TENANT_PATTERN.fullmatch(t)))
    scopes = rules.granted_scopes(params.get("scope"), client.scopes)
    extra: dict[str, Any] | None = {"system": client.system} if kind is ClientKind.STORE else None
    if client.tenant_id == client_rules.ALL_TENANTS:
        # A platform client (the operator, a service): it still acts for a tenant whose contract has ended.
        extra = {**(extra or {}), "platform": True}
    acting = uow.for_tenant(tenant, f"client:{client.client_id}")
    subject = client_rules.subject(kind, client.client_id, client.system)
    token, claims = await sign_access_token(
        acting, subject=subject, scopes=scopes, client_id=client.client_id, extra=extra
    )
    log.info("identity.token.issued", client_id=client.client_id, grant=CLIENT_CREDENTIALS, tenant=tenant)
    return token_response(token, claims)


async def own_token(ctx: JobContext[IdentitySettings], tenant: str, scopes: tuple[str, ...]) -> tuple[str, float]:
    """A token of the identity service itself for ``tenant`` (its DSAR store uploading an export), signed here."""
    async with ctx.database.session() as session:
        uow = ctx.unit_of_work(session, tenant, OWN_SUBJECT)
        token, claims = await sign_access_token(
            uow, subject=OWN_SUBJECT, scopes=scopes, client_id=ctx.settings.service_name
        )
    return token, float(claims["exp"] - claims["iat"])
