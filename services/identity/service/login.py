"""Signing people in (OpenID Connect Core 1.0, authorization code flow with PKCE) and their tokens.

``POST /authorize`` checks the password (Argon2id) and sends the person back to the console with
a one-time code; the console exchanges it at the token endpoint with its secret and the PKCE
verifier for an access token (``sub`` ``user:<email>``, the scopes of the person's roles) and an
id token. Failed sign-ins are counted per account: after ``login_max_failures`` within
``login_window_s`` (5 in 15 minutes) the account is refused until the window has passed, whatever
the password (OWASP ASVS 2.2.1); every failure and refusal is audited, by account reference only.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import delete
from sqlmodel import col, select

from services.identity.domain import pkce
from services.identity.domain import tokens as rules
from services.identity.domain.clients import ALL_TENANTS, ClientKind
from services.identity.domain.errors import InvalidGrant, InvalidRequest, UnauthorizedClient
from services.identity.domain.logins import AuthorizeRequest, authorize_request, digest, redirect, retry_after
from services.identity.models import AuthorizationCode, Client, LoginFailure, UserAccount
from services.identity.service import Job, Uow
from services.identity.service.clients import kind_of
from services.identity.service.crypto import sign
from services.identity.service.keys import token_signing_key
from services.identity.service.passwords import hasher
from services.identity.service.tokens import WALL_CLOCK, sign_access_token, token_response
from services.identity.service.users import email_ref
from shared.rules import subjects
from shared.rules.roles import scopes_for
from shared.runtime.auth import TENANT_PATTERN

log = structlog.get_logger("privops.identity.login")
WRONG = "Wrong tenant, email or password."


@dataclass(frozen=True)
class Refused:
    """A sign-in refused: what the form says, with which status, and how long to wait when throttled."""

    status: int
    message: str
    retry_after_s: int | None = None


async def console(uow: Uow, client_id: str | None) -> Client | None:
    """The enabled console client of that id, if any."""
    client = await uow.session.get(Client, client_id) if client_id else None
    if client is None or client.disabled_at is not None or kind_of(client) is not ClientKind.CONSOLE:
        return None
    return client


async def authorization(uow: Uow, params: dict[str, str]) -> tuple[AuthorizeRequest, Client]:
    """The checked request and its console (UnsafeRedirect or AuthorizeError otherwise)."""
    client = await console(uow, params.get("client_id"))
    request = authorize_request(params, client.redirect_uris if client else None)
    assert client is not None  # authorize_request refuses a request without a console
    return request, client


def account_ref(uow: Uow, email: str) -> str:
    """What the failures of an account are counted by: the address's subject reference (any text typed)."""
    try:
        return email_ref(uow, email)
    except subjects.IdentifierError:
        return digest("typed:" + email.strip().lower())


async def sign_in(
    public: Uow, request: AuthorizeRequest, client: Client, tenant: str, email: str, password: str
) -> str | Refused:
    """The redirect to the console with a code when the password is right; else why not (audited)."""
    tenant = tenant.strip().lower()
    if client.tenant_id not in (ALL_TENANTS, tenant) or not TENANT_PATTERN.fullmatch(tenant):
        return Refused(400, WRONG)
    uow = public.for_tenant(tenant, f"login:{client.client_id}")
    ref = account_ref(uow, email)
    failures = select(LoginFailure.at).where(
        col(LoginFailure.tenant_id) == tenant, col(LoginFailure.account_ref) == ref
    )
    window = timedelta(seconds=uow.settings.login_window_s)
    wait = retry_after((await uow.session.exec(failures)).all(), uow.now(), window, uow.settings.login_max_failures)
    if wait is not None:
        uow.audit("login.throttled", "account", ref, {"client_id": client.client_id})
        minutes = max(1, int(wait.total_seconds() + 59) // 60)
        return Refused(429, f"Too many failed sign-ins: try again in {minutes} minutes.", int(wait.total_seconds()))
    user = await _account(uow, email)
    usable = user is not None and user.disabled_at is None and user.password_hash is not None
    if not await hasher(uow.settings).verify(user.password_hash if user and usable else None, password):
        uow.session.add(LoginFailure(tenant_id=tenant, account_ref=ref, at=uow.now()))
        reason = "password" if usable else ("disabled" if user else "unknown")
        uow.audit("login.failed", "account", ref, {"client_id": client.client_id, "reason": reason})
        log.info("identity.login.failed", client_id=client.client_id, reason=reason)
        return Refused(400, WRONG)
    assert user is not None  # usable
    return await _signed_in(uow, request, client, user, ref, password)


async def _account(uow: Uow, email: str) -> UserAccount | None:
    try:
        address = subjects.normalise_email(email)
    except subjects.IdentifierError:
        return None
    statement = select(UserAccount).where(
        col(UserAccount.tenant_id) == uow.tenant_id, col(UserAccount.email) == address
    )
    return (await uow.session.exec(statement.with_for_update())).first()


async def _signed_in(
    uow: Uow, request: AuthorizeRequest, client: Client, user: UserAccount, ref: str, password: str
) -> str:
    await uow.session.exec(
        delete(LoginFailure).where(col(LoginFailure.tenant_id) == uow.tenant_id, col(LoginFailure.account_ref) == ref)
    )
    if hasher(uow.settings).needs_rehash(user.password_hash or ""):
        user.password_hash = await hasher(uow.settings).hash(password)
    user.last_login_at = uow.now()
    uow.session.add(user)
    code = secrets.token_urlsafe(32)
    uow.session.add(
        AuthorizationCode(
            code_hash=digest(code),
            tenant_id=uow.tenant_id,
            client_id=client.client_id,
            user_id=user.id,
            redirect_uri=request.redirect_uri,
            code_challenge=request.code_challenge,
            nonce=request.nonce,
            created_at=uow.now(),
            expires_at=uow.now() + timedelta(seconds=uow.settings.code_ttl_s),
        )
    )
    uow.audit("login.succeeded", "user", user.id, {"client_id": client.client_id})
    await uow.session.flush()
    return redirect(request.redirect_uri, uow.settings.issuer, request.state, code=code)


def person_claims(user: UserAccount) -> dict[str, Any]:
    """What a person's tokens and userinfo say about them."""
    return {"email": user.email, "name": user.name, "roles": user.roles}


async def authorization_code(uow: Uow, client: Client, params: dict[str, str]) -> dict[str, Any]:
    """Exchange a code for an access token and an id token (RFC 6749 §4.1.3, RFC 7636 §4.6, OIDC §3.1.3)."""
    if kind_of(client) is not ClientKind.CONSOLE:
        raise UnauthorizedClient("only console clients sign people in")
    code, verifier = params.get("code"), params.get("code_verifier")
    if not code or not verifier or "redirect_uri" not in params:
        raise InvalidRequest("code, redirect_uri and code_verifier are required")
    row = await uow.session.get(AuthorizationCode, digest(code), with_for_update=True)
    if row is None or row.client_id != client.client_id:
        raise InvalidGrant("the code is unknown, or was issued to another client")
    if row.used_at is not None:
        log.warning("identity.code.replayed", client_id=client.client_id)
        raise InvalidGrant("the code was used already")
    if row.expires_at <= uow.now() or params["redirect_uri"] != row.redirect_uri:
        raise InvalidGrant("the code has expired, or redirect_uri differs from the authorization request's")
    if not pkce.verifies(row.code_challenge, verifier):
        raise InvalidGrant("code_verifier does not match the code_challenge")
    row.used_at = uow.now()
    uow.session.add(row)
    user = await uow.session.get(UserAccount, row.user_id)
    if user is None or user.disabled_at is not None:
        raise InvalidGrant("the account is disabled")
    subject = f"user:{user.email}"
    acting = uow.for_tenant(row.tenant_id, subject)
    token, claims = await sign_access_token(
        acting, subject=subject, scopes=scopes_for(user.roles), client_id=client.client_id, extra=person_claims(user)
    )
    id_claims = rules.id_token_claims(
        issuer=uow.settings.issuer,
        subject=subject,
        client_id=client.client_id,
        now=WALL_CLOCK.now(),
        ttl=uow.settings.token_ttl,
        auth_time=user.last_login_at or row.created_at,
        nonce=row.nonce,
        extra=person_claims(user) | {"tenant": row.tenant_id},
    )
    id_token = sign(await token_signing_key(uow), rules.ID_TOKEN_TYPE, id_claims)
    log.info("identity.token.issued", client_id=client.client_id, grant="authorization_code", tenant=row.tenant_id)
    return token_response(token, claims, id_token=id_token)


async def userinfo(uow: Uow, email: str) -> dict[str, Any] | None:
    """The claims of the person signed in (OIDC Core §5.3), or None when the account is gone or disabled."""
    statement = select(UserAccount).where(col(UserAccount.tenant_id) == uow.tenant_id, col(UserAccount.email) == email)
    user = (await uow.session.exec(statement)).first()
    if user is None or user.disabled_at is not None:
        return None
    return {"sub": f"user:{user.email}", "tenant": user.tenant_id, **person_claims(user)}


async def purge_expired(ctx: Job) -> int:
    """The ``identity.purge`` job: forget expired codes and failures older than the window."""
    async with ctx.database.session() as session:
        uow = ctx.unit_of_work(session, "", "job:identity.purge")
        window = timedelta(seconds=uow.settings.login_window_s)
        codes = await session.exec(delete(AuthorizationCode).where(col(AuthorizationCode.expires_at) <= uow.now()))
        failures = await session.exec(delete(LoginFailure).where(col(LoginFailure.at) <= uow.now() - window))
        return int(codes.rowcount or 0) + int(failures.rowcount or 0)
