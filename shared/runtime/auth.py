"""Bearer-token auth: JWTs carrying a tenant and scopes.

Tokens are signed by the identity service (EdDSA, RFC 8037) and verified with the public keys it
publishes (a JWKS URL; RS256 and ES256 keys of another OpenID provider are accepted the same way).
HS256 with a shared secret is the explicit development mode only. A missing or invalid token is a
401, a missing scope a 403. Scopes are ``<service>:<level>`` with ``admin`` ⊃ ``write`` ⊃ ``read``
inside one service, plus narrow ones (``dsar:task``, ``notify:claim``, ``identity:sign``).
"""

from __future__ import annotations

import re
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

import anyio
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.rules.errors import Forbidden, Unauthorized

TENANT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
LEVELS = ("read", "write", "admin")
SERVICES = ("consent", "dsar", "retention", "breach", "subprocessor", "notify", "identity")
ALGORITHM_HS = "HS256"
ALGORITHMS_JWKS = ("EdDSA", "ES256", "RS256")
CLOCK_SKEW = timedelta(seconds=30)
VERIFIED_CACHE_SIZE = 10_000
# A service's own source of EdDSA verification keys (the identity service verifies its own tokens
# locally): given the token's header, the public key, or raise Unauthorized.
KeyResolver = Callable[[dict[str, Any]], Awaitable[Any]]

bearer_scheme = HTTPBearer(auto_error=False, description="JWT with `tenant` and `scope` claims")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the tenant they act for, their scopes and the token's subject."""

    tenant_id: str
    scopes: frozenset[str]
    subject: str
    token_id: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def has_scope(self, needed: str) -> bool:
        """True when one of the token's scopes grants ``needed`` (admin ⊃ write ⊃ read)."""
        if needed in self.scopes:
            return True
        service, _, level = needed.partition(":")
        if level not in LEVELS:
            return False
        stronger = LEVELS[LEVELS.index(level) + 1 :]
        return any(f"{service}:{s}" in self.scopes for s in stronger)


def admin_scopes() -> list[str]:
    """Every service's admin scope: what the local stack's admin token carries."""
    return [f"{s}:admin" for s in SERVICES]


def issue_token(
    secret: str,
    tenant: str,
    scopes: Iterable[str],
    *,
    now: datetime,
    subject: str = "privops-cli",
    ttl: timedelta = timedelta(hours=12),
    audience: str | None = None,
    issuer: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """Sign an HS256 token for ``tenant`` with ``scopes`` (used by the CLI, tests and service calls)."""
    if not TENANT_PATTERN.match(tenant):
        raise ValueError(f"tenant {tenant!r} must match {TENANT_PATTERN.pattern}")
    claims: dict[str, Any] = {
        "sub": subject,
        "tenant": tenant,
        "scope": " ".join(sorted(set(scopes))),
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    if audience:
        claims["aud"] = audience
    if issuer:
        claims["iss"] = issuer
    return jwt.encode({**(extra or {}), **claims}, secret, algorithm=ALGORITHM_HS)


class TokenVerifier:
    """Checks signatures and claims, and turns a token into a Principal."""

    def __init__(
        self,
        secret: str | None,
        *,
        jwks_url: str | None = None,
        audience: str | None = None,
        issuer: str | None = None,
        key_resolver: KeyResolver | None = None,
    ) -> None:
        self._secret = secret
        self._key_resolver = key_resolver
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300) if jwks_url else None
        self._audience = audience
        self._issuer = issuer
        # Verified tokens, so a client reusing its token skips the signature check until expiry.
        self._verified: OrderedDict[str, Principal] = OrderedDict()
        # Tenants whose contract has ended (``shared.runtime.tenant_ends`` keeps it current): their tokens are
        # refused, but a privops service's own (it finishes the contract end's work).
        self.ended_tenants: set[str] = set()

    def ended(self, principal: Principal) -> bool:
        """True when the principal is an ended tenant's own (not a privops service's, nor a platform client's)."""
        if principal.tenant_id not in self.ended_tenants:
            return False
        return not (principal.subject.startswith("service:") or principal.claims.get("platform") is True)

    async def verify(self, token: str) -> Principal:
        """Return the token's principal or raise Unauthorized with the reason."""
        cached = self.cached(token)
        if cached is not None:
            return cached
        principal = await self._verify(token)
        if self.ended(principal):
            raise Unauthorized("The contract of this token's tenant has ended: its tokens are no longer accepted.")
        self._verified[token] = principal
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return principal

    def cached(self, token: str) -> Principal | None:
        """The principal of a token verified before and not yet expired, else ``None`` (no I/O, never raises)."""
        principal = self._verified.get(token)
        if principal is None:
            return None
        if principal.claims["exp"] > time.time() and not self.ended(principal):
            return principal
        self._verified.pop(token, None)  # expired: forget it
        return None

    async def _verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("The bearer token is not a JWT.") from None
        alg = header.get("alg")
        key: Any
        if alg == "EdDSA" and self._key_resolver is not None:
            key = await self._key_resolver(header)
        elif alg == ALGORITHM_HS and self._secret:
            key = self._secret
        elif alg in ALGORITHMS_JWKS and self._jwks is not None:
            jwks = self._jwks
            try:
                key = (await anyio.to_thread.run_sync(jwks.get_signing_key_from_jwt, token)).key
            except jwt.PyJWTError as exc:
                raise Unauthorized(f"No signing key for this token: {exc}") from None
        else:
            raise Unauthorized(f"Tokens signed with {alg!r} are not accepted here.")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self._audience,
                issuer=self._issuer,
                leeway=CLOCK_SKEW,
                options={"require": ["exp", "sub"], "verify_aud": self._audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The bearer token has expired.") from None
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"The bearer token is invalid: {exc}.") from None
        tenant = claims.get("tenant")
        if not isinstance(tenant, str) or not TENANT_PATTERN.match(tenant):
            raise Unauthorized("The bearer token carries no valid 'tenant' claim.")
        raw_scopes = claims.get("scope", "")
        scopes = raw_scopes.split() if isinstance(raw_scopes, str) else list(raw_scopes)
        return Principal(
            tenant_id=tenant,
            scopes=frozenset(scopes),
            subject=str(claims["sub"]),
            token_id=claims.get("jti"),
            claims=claims,
        )


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


async def principal_of(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The caller's principal from the request's bearer credentials, or 401 (a plain function, not a dependency)."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthorized("A bearer token is required (Authorization: Bearer <token>).")
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = await verifier.verify(credentials.credentials)
    request.state.principal = principal
    return principal


async def authenticate(request: Request, credentials: Credentials) -> Principal:
    """FastAPI dependency: the caller's principal, or 401."""
    return await principal_of(request, credentials)


@dataclass(frozen=True)
class ScopeCheck:
    """A check of the principal's scopes: every one of ``scopes`` (``any_of``: at least one), or 403."""

    scopes: tuple[str, ...]
    any_of: bool = False

    def __call__(self, principal: Principal) -> Principal:
        if self.any_of:
            if not any(principal.has_scope(s) for s in self.scopes):
                needed = ", ".join(self.scopes)
                raise Forbidden(f"This operation needs one of the scopes {needed}.", required_scopes=list(self.scopes))
            return principal
        missing = [s for s in self.scopes if not principal.has_scope(s)]
        if missing:
            raise Forbidden(f"This operation needs the scope {' and '.join(missing)}.", required_scopes=missing)
        return principal


def scope_check(*scopes: str, any_of: bool = False) -> ScopeCheck:
    """The check a route's dependency makes (the isolation tests read its ``scopes`` from the dependency)."""
    return ScopeCheck(scopes, any_of and len(scopes) > 1)


def authorised(check: ScopeCheck, name: str) -> Callable[..., Awaitable[Principal]]:
    """FastAPI dependency: the caller's principal once ``check`` passes.

    The token is read and checked in this one dependency rather than a chain of three (bearer →
    authenticate → scopes): FastAPI solves each level of a dependency tree anew on every request, and
    on a read route those levels cost more than the read.
    """

    async def dependency(request: Request, credentials: Credentials) -> Principal:
        return check(await principal_of(request, credentials))

    dependency.__name__ = name
    return dependency


def require(*scopes: str) -> Callable[..., Awaitable[Principal]]:
    """FastAPI dependency factory: the caller's principal, or 403 unless it holds every scope."""
    return authorised(scope_check(*scopes), "require_" + "_".join(s.replace(":", "_") for s in scopes))


def require_any(*scopes: str) -> Callable[..., Awaitable[Principal]]:
    """FastAPI dependency factory: the caller's principal, or 403 unless it holds at least one of ``scopes``."""
    return authorised(scope_check(*scopes, any_of=True), "require_any_" + "_".join(s.replace(":", "_") for s in scopes))
