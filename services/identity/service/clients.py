"""Clients: registration without widening, secrets shown once, disabling, and client authentication."""

from __future__ import annotations

from typing import Any

import structlog
from sqlmodel import col, select

from services.identity.domain.clients import ALL_TENANTS, ClientKind, Registration, check_registration, widening
from services.identity.domain.errors import InvalidClientAuth
from services.identity.models import Client
from services.identity.schemas import ClientIn
from services.identity.service import Uow
from services.identity.service.passwords import hasher, new_secret
from shared.rules.errors import Conflict, Forbidden, NotFound

log = structlog.get_logger("privops.identity.clients")
PLATFORM_ADMIN = "platform:admin"


def is_platform_admin(uow: Uow) -> bool:
    """Whether the caller is the platform operator."""
    return uow.principal is not None and uow.principal.has_scope(PLATFORM_ADMIN)


def acting_for(uow: Uow, tenant: str | None) -> Uow:
    """The unit of work for ``tenant``: the caller's own, or (platform:admin only) another one or ``*``."""
    if tenant is None or tenant == uow.tenant_id:
        return uow
    if not is_platform_admin(uow):
        raise Forbidden(f"Only the platform operator ({PLATFORM_ADMIN}) acts for another tenant.")
    return uow.for_tenant(tenant)


def registration(body: ClientIn, tenant: str) -> Registration:
    """The registration a request asks for."""
    return Registration(
        client_id=body.client_id,
        tenant=tenant,
        kind=body.kind,
        scopes=tuple(dict.fromkeys(body.scopes)),
        system=body.system,
        redirect_uris=tuple(dict.fromkeys(body.redirect_uris)),
    )


async def create_client(uow: Uow, body: ClientIn) -> tuple[Client, str]:
    """Register a client of the caller's tenant (or, for the platform operator, any); return it and its secret."""
    target = acting_for(uow, body.tenant)
    reg = registration(body, target.tenant_id)
    check_registration(reg)
    assert uow.principal is not None
    wider = widening(sorted(uow.principal.scopes), reg.scopes)
    if wider:
        raise Forbidden(f"A client cannot be given scopes its creator does not hold: {', '.join(wider)}.")
    if await uow.session.get(Client, reg.client_id) is not None:
        raise Conflict(f"The client id {reg.client_id!r} is taken.")
    secret = new_secret()
    client = Client(
        client_id=reg.client_id,
        tenant_id=reg.tenant,
        name=body.name,
        kind=reg.kind.value,
        scopes=list(reg.scopes),
        system=reg.system,
        redirect_uris=list(reg.redirect_uris),
        secret_hash=await hasher(uow.settings).hash(secret),
        created_by=uow.actor,
        created_at=uow.now(),
    )
    uow.session.add(client)
    target.audit("client.created", "client", client.client_id, _audited(client))
    await uow.session.flush()
    return client, secret


async def list_clients(uow: Uow, tenant: str | None) -> list[Client]:
    """The clients of the caller's tenant (or of ``tenant``, for the platform operator)."""
    target = acting_for(uow, tenant)
    statement = select(Client).where(col(Client.tenant_id) == target.tenant_id).order_by(col(Client.client_id))
    return list((await uow.session.exec(statement)).all())


async def get_client(uow: Uow, client_id: str, *, lock: bool = False) -> Client:
    """A client of the caller's tenant (the platform operator sees every one); 404 otherwise."""
    client = await uow.session.get(Client, client_id, with_for_update=lock or None)
    if client is None or (client.tenant_id != uow.tenant_id and not is_platform_admin(uow)):
        raise NotFound(f"No client {client_id} for this tenant.")
    return client


async def rotate_secret(uow: Uow, client_id: str) -> tuple[Client, str]:
    """A new secret for the client, returned once; the previous one stops working at once."""
    client = await get_client(uow, client_id, lock=True)
    if client.disabled_at is not None:
        raise Conflict(f"The client {client_id} is disabled.")
    secret = new_secret()
    client.secret_hash = await hasher(uow.settings).hash(secret)
    client.secret_rotated_at = uow.now()
    uow.session.add(client)
    uow.for_tenant(client.tenant_id).audit("client.secret_rotated", "client", client_id)
    await uow.session.flush()
    return client, secret


async def disable_client(uow: Uow, client_id: str) -> Client:
    """Disable the client: no new token; those it holds work until they expire (``token_ttl_s``)."""
    client = await get_client(uow, client_id, lock=True)
    if client.disabled_at is None:
        client.disabled_at = uow.now()
        uow.session.add(client)
        uow.for_tenant(client.tenant_id).audit("client.disabled", "client", client_id)
        await uow.session.flush()
    return client


async def authenticate(uow: Uow, client_id: str, secret: str) -> Client:
    """The client whose id and secret these are (Argon2id, same work for an unknown id), else invalid_client."""
    client = await uow.session.get(Client, client_id)
    ok = await hasher(uow.settings).verify(client.secret_hash if client else None, secret)
    if client is None or not ok:
        log.info("identity.client.auth_failed", known=client is not None)
        raise InvalidClientAuth("client authentication failed")
    if client.disabled_at is not None:
        raise InvalidClientAuth("the client is disabled")
    return client


def kind_of(client: Client) -> ClientKind:
    """The client's kind."""
    return ClientKind(client.kind)


def is_multi_tenant(client: Client) -> bool:
    """Whether the client acts on every tenant."""
    return client.tenant_id == ALL_TENANTS


def _audited(client: Client) -> dict[str, Any]:
    return {"kind": client.kind, "scopes": client.scopes, "system": client.system, "tenant": client.tenant_id}
