"""The tokens the issuer signs: which scopes and tenant a request may get, and their claims.

Access tokens follow RFC 9068 (JWT profile for OAuth 2.0 access tokens): header ``typ`` "at+jwt",
claims iss, sub, iat, nbf, exp, jti, client_id, scope, plus privops' ``tenant`` (and ``system``
for a data store). Id tokens follow OpenID Connect Core 1.0 §2 (aud = the client, nonce echoed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from shared.rules import scopes as grammar

from .clients import ALL_TENANTS
from .errors import InvalidDocument, InvalidRequest, InvalidScope, InvalidTarget

ACCESS_TOKEN_TYPE = "at+jwt"  # RFC 9068 §2.1
ID_TOKEN_TYPE = "JWT"
ALGORITHM = "EdDSA"  # RFC 8037
# A signed document's explicit type (RFC 8725 §3.11), e.g. erasure-certificate+jwt.
DOCUMENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9.-]{0,62}\+jwt$")


def granted_scopes(requested: str | None, allowed: Sequence[str]) -> list[str]:
    """The scopes a token gets: all of the client's when none are asked, else those asked if each is granted.

    Narrowing only: a client holding ``dsar:admin`` may ask for ``dsar:read``; asking for anything its
    scopes do not grant (by the admin ⊃ write ⊃ read rule) is ``invalid_scope`` (RFC 6749 §3.3).
    """
    asked = grammar.parse(requested)
    if not asked:
        return sorted(set(allowed))
    refused = grammar.not_granted(allowed, asked)
    if refused:
        raise InvalidScope(f"the client may not ask for {', '.join(refused)}")
    return sorted(asked)


def target_tenant(client_tenant: str, requested: str | None, valid: Callable[[str], bool]) -> str:
    """The tenant a token acts for: a tenant-bound client's own; the one named by a client on every tenant."""
    if client_tenant != ALL_TENANTS:
        if requested and requested != client_tenant:
            raise InvalidTarget("this client acts for its own tenant only")
        return client_tenant
    if not requested:
        raise InvalidRequest("a client acting on every tenant names the tenant of its token (tenant=…)")
    if not valid(requested):
        raise InvalidRequest("the tenant is malformed")
    return requested


def access_claims(
    *,
    issuer: str,
    subject: str,
    tenant: str,
    scopes: Sequence[str],
    client_id: str,
    now: datetime,
    ttl: timedelta,
    jti: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The claims of an access token issued at ``now`` for ``ttl``."""
    issued = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "tenant": tenant,
        "scope": " ".join(scopes),
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(ttl.total_seconds()),
        "jti": jti,
        "client_id": client_id,
    }
    return claims | (extra or {})


def id_token_claims(
    *,
    issuer: str,
    subject: str,
    client_id: str,
    now: datetime,
    ttl: timedelta,
    auth_time: datetime,
    nonce: str | None,
    extra: dict[str, Any],
) -> dict[str, Any]:
    """The claims of an OpenID Connect id token for ``client_id`` (OIDC Core 1.0 §2)."""
    issued = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": client_id,
        "azp": client_id,
        "iat": issued,
        "exp": issued + int(ttl.total_seconds()),
        "auth_time": int(auth_time.timestamp()),
    }
    if nonce:
        claims["nonce"] = nonce
    return claims | extra


def check_document_type(typ: str) -> str:
    """``typ`` when it is an explicit ``<name>+jwt`` type such as ``erasure-certificate+jwt``."""
    if not DOCUMENT_TYPE.fullmatch(typ) or typ in (ACCESS_TOKEN_TYPE, "jwt"):
        raise InvalidDocument("typ is a document type such as erasure-certificate+jwt (RFC 8725 §3.11)")
    return typ


def document_claims(claims: dict[str, Any], issuer: str, now: datetime) -> dict[str, Any]:
    """A document's claims as signed: ``iss`` the tenant's issuer, ``iat`` now unless given."""
    if "iss" in claims and claims["iss"] != issuer:
        raise InvalidDocument(f"the issuer of this tenant's documents is {issuer}; leave 'iss' out")
    return {**claims, "iss": issuer, "iat": claims.get("iat", int(now.timestamp()))}
