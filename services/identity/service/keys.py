"""The service's token keys and the tenants' document keys: creation, rotation, JWKS, verification.

One token key signs at a time; rotation retires it and makes the next (``POST /v1/keys/rotate``
and the ``identity.keys`` job after ``key_rotation_days``). A retired token key stays published
until its last token has expired, then the job deletes it, private half included. A tenant's
document key is made on its first signature and never deleted: every version stays published at
the tenant's JWKS URL, so a certificate signed years ago still verifies.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import delete, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.identity.domain import keys as rules
from services.identity.domain.keys import KeyUse, KeyWindow
from services.identity.domain.tokens import ACCESS_TOKEN_TYPE
from services.identity.models import SigningKey
from services.identity.service import Job, Uow
from services.identity.service.crypto import KeyPair, generate, public_jwk, public_key, seal, unseal
from shared.rules.errors import NotFound, Unauthorized
from shared.runtime.db import Database

log = structlog.get_logger("privops.identity.keys")
SERVICE_KEYS = "*"  # the tenant of the token keys: they sign for every tenant
KNOWN_KEYS_CACHED = 256


def _window(row: SigningKey) -> KeyWindow:
    return KeyWindow(row.kid, row.created_at, row.retired_at)


def max_token_ttl(uow: Uow | Job) -> timedelta:
    """The longest lifetime of a token this service signs (access and id tokens share it)."""
    return uow.settings.token_ttl


async def _lock(session: AsyncSession, use: KeyUse, tenant: str) -> None:
    """Serialise key creation and rotation for one (use, tenant) across replicas, until the transaction ends."""
    key = zlib.crc32(f"privops.identity.keys.{use}.{tenant}".encode())
    await session.exec(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=key))  # type: ignore[call-overload]


async def _keys(session: AsyncSession, use: KeyUse, tenant: str) -> list[SigningKey]:
    statement = select(SigningKey).where(col(SigningKey.use) == use.value, col(SigningKey.tenant_id) == tenant)
    return list((await session.exec(statement.order_by(col(SigningKey.created_at).desc()))).all())


def _active(rows: list[SigningKey]) -> SigningKey | None:
    current = rules.active_key([_window(r) for r in rows])
    return next((r for r in rows if current and r.kid == current.kid), None)


async def _create(uow: Uow, use: KeyUse, tenant: str) -> SigningKey:
    kid, x, private = generate()
    row = SigningKey(
        kid=kid,
        use=use.value,
        tenant_id=tenant,
        x=x,
        sealed_private=seal(uow.settings.key_encryption_key.get_secret_value(), kid, private),
        created_at=uow.now(),
    )
    uow.session.add(row)
    uow.for_tenant(tenant).audit("key.created", "signing_key", kid, {"use": use.value})
    await uow.session.flush()
    log.info("identity.key.created", use=use.value, kid=kid)
    return row


async def _signing_key(uow: Uow, use: KeyUse, tenant: str) -> KeyPair:
    """The active key of (use, tenant), made on first use."""
    row = _active(await _keys(uow.session, use, tenant))
    if row is None:
        await _lock(uow.session, use, tenant)
        row = _active(await _keys(uow.session, use, tenant)) or await _create(uow, use, tenant)
    return KeyPair(row.kid, unseal(uow.settings.key_encryption_key.get_secret_value(), row.kid, row.sealed_private))


async def token_signing_key(uow: Uow) -> KeyPair:
    """The key that signs tokens now."""
    return await _signing_key(uow, KeyUse.TOKEN, SERVICE_KEYS)


async def document_signing_key(uow: Uow) -> KeyPair:
    """The unit's tenant's document key, made on its first signature."""
    return await _signing_key(uow, KeyUse.DOCUMENT, uow.tenant_id)


async def _rotate(uow: Uow, use: KeyUse, tenant: str) -> tuple[SigningKey, str | None]:
    await _lock(uow.session, use, tenant)
    previous = _active(await _keys(uow.session, use, tenant))
    if previous is not None:
        previous.retired_at = uow.now()
        uow.session.add(previous)
    row = await _create(uow, use, tenant)
    retired = previous.kid if previous else None
    uow.for_tenant(tenant).audit("key.rotated", "signing_key", row.kid, {"use": use.value, "retired": retired})
    return row, retired


async def rotate_token_key(uow: Uow) -> tuple[SigningKey, str | None]:
    """Retire the token key and make the next one; return it and the retired kid."""
    return await _rotate(uow, KeyUse.TOKEN, SERVICE_KEYS)


async def rotate_document_key(uow: Uow) -> tuple[SigningKey, str | None]:
    """Make the tenant's next document key; the previous ones stay published for ever."""
    return await _rotate(uow, KeyUse.DOCUMENT, uow.tenant_id)


async def token_jwks(uow: Uow) -> dict[str, Any]:
    """The token-signing public keys to publish now: the active one and retired ones still needed."""
    rows = {r.kid: r for r in await _keys(uow.session, KeyUse.TOKEN, SERVICE_KEYS)}
    keys = rules.published([_window(r) for r in rows.values()], uow.now(), max_token_ttl(uow))
    return {"keys": [public_jwk(k.kid, rows[k.kid].x) for k in keys]}


async def document_jwks(uow: Uow) -> dict[str, Any]:
    """Every document key the unit's tenant ever signed with, newest first (404 before its first signature)."""
    rows = await _keys(uow.session, KeyUse.DOCUMENT, uow.tenant_id)
    if not rows:
        raise NotFound(f"Tenant {uow.tenant_id!r} has signed no document.")
    return {"keys": [public_jwk(r.kid, r.x) for r in rows]}


async def keep_token_keys(ctx: Job) -> int:
    """The periodic job: make a token key if none signs, rotate an old one, delete those no token needs."""
    async with ctx.database.session() as session:
        uow = ctx.unit_of_work(session, SERVICE_KEYS, "job:identity.keys")
        await _lock(session, KeyUse.TOKEN, SERVICE_KEYS)
        rows = await _keys(session, KeyUse.TOKEN, SERVICE_KEYS)
        windows = [_window(r) for r in rows]
        changed = 0
        every = timedelta(days=ctx.settings.key_rotation_days)
        if rules.rotation_due(rules.active_key(windows), uow.now(), every):
            await _rotate(uow, KeyUse.TOKEN, SERVICE_KEYS)
            changed += 1
        dropped = rules.droppable(windows, uow.now(), ctx.settings.token_ttl)
        if dropped:
            await session.exec(delete(SigningKey).where(col(SigningKey.kid).in_(dropped)))
            for kid in dropped:
                uow.audit("key.dropped", "signing_key", kid, {"use": KeyUse.TOKEN.value})
            changed += len(dropped)
        return changed


class OwnTokenKeys:
    """The ``TokenVerifier`` key resolver of the identity service: its own token keys, read locally.

    Only access tokens (``typ`` at+jwt, RFC 9068 §4) are accepted as bearer tokens: an id token or a
    signed document is refused even though this service signed it.
    """

    def __init__(self, database: Callable[[], Database]) -> None:
        self._database = database
        self._known: dict[str, Any] = {}

    async def __call__(self, header: dict[str, Any]) -> Any:
        """The public key of the token's ``kid`` (Unauthorized when unknown or not an access token)."""
        if str(header.get("typ", "")).lower() != ACCESS_TOKEN_TYPE:
            raise Unauthorized("Only access tokens (typ at+jwt) are accepted as bearer tokens.")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("The bearer token names no key (kid).")
        key = self._known.get(kid)
        if key is None:
            async with self._database().session() as session:
                row = await session.get(SigningKey, kid)
            if row is None or row.use != KeyUse.TOKEN.value:
                raise Unauthorized("The bearer token was not signed by a key of this issuer.")
            key = self._known[kid] = public_key(row.x)
            if len(self._known) > KNOWN_KEYS_CACHED:
                self._known.pop(next(iter(self._known)))
        return key


async def ensure_token_key(ctx: Job) -> None:
    """At start: a token key signs from the first request (made once, whichever replica comes first)."""
    async with ctx.database.session() as session:
        await _signing_key(ctx.unit_of_work(session, SERVICE_KEYS, "identity.start"), KeyUse.TOKEN, SERVICE_KEYS)
