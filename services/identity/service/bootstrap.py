"""The bootstrap file: clients (and people) the operator declares, upserted at every start.

The local stack and the Kubernetes Secrets use it to give each privops service, the demo stores
and the operator's CLI their credentials before anyone can call the API; docker compose, which
cannot write a file from its ``.env``, passes the same JSON inline (``IDENTITY_BOOTSTRAP_JSON``).
The file is the operator's:
what it declares wins over changes made through the API (a disabled client it lists is enabled
again). Its secrets are hashed on load; nothing of them is logged.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import text

from services.identity.domain.clients import ClientKind, Registration, check_registration
from services.identity.models import Client
from services.identity.service import Job
from services.identity.service.passwords import hasher
from services.identity.settings import IdentitySettings

log = structlog.get_logger("privops.identity.bootstrap")
ACTOR = "bootstrap"
LOCK = zlib.crc32(b"privops.identity.bootstrap")


class BootstrapError(SystemExit):
    """The bootstrap file cannot be used: the service refuses to start and says why."""


class BootstrapClient(BaseModel):
    """One client of the file."""

    model_config = ConfigDict(extra="forbid")

    client_id: str
    secret: str = Field(min_length=32, description="At least 32 characters")
    tenant: str
    name: str = Field(min_length=1, max_length=255)
    kind: ClientKind
    scopes: list[str] = Field(default_factory=list)
    system: str | None = None
    redirect_uris: list[str] = Field(default_factory=list)


class BootstrapFile(BaseModel):
    """The whole file."""

    model_config = ConfigDict(extra="forbid")

    clients: list[BootstrapClient] = Field(default_factory=list)


def read(path: str) -> BootstrapFile:
    """The file at ``path``, checked (BootstrapError naming the problem, never a secret)."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise BootstrapError(f"identity bootstrap file {path}: {exc.strerror}") from None
    return parse(text, f"identity bootstrap file {path}")


def parse(text: str, where: str) -> BootstrapFile:
    """The clients of a bootstrap document, checked; errors name ``where`` and the place, never a secret."""
    try:
        data = BootstrapFile.model_validate(json.loads(text))
    except json.JSONDecodeError as exc:  # its message quotes no content, only the position
        raise BootstrapError(f"{where}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except ValidationError as exc:
        raise BootstrapError(f"{where}: {'; '.join(_located(exc))}") from None
    for entry in data.clients:
        reg = _registration(entry)
        try:
            check_registration(reg)
        except ValueError as exc:
            raise BootstrapError(f"{where}: client {entry.client_id}: {exc}") from None
    return data


def declared(settings: IdentitySettings) -> BootstrapFile | None:
    """What the operator declares: ``bootstrap_file``, else ``bootstrap_json`` (inline), else nothing."""
    if settings.bootstrap_file:
        return read(settings.bootstrap_file)
    if settings.bootstrap_json is not None:
        return parse(settings.bootstrap_json.get_secret_value(), "identity bootstrap (IDENTITY_BOOTSTRAP_JSON)")
    return None


def _located(exc: ValidationError) -> list[str]:
    return [".".join(str(p) for p in e["loc"]) + ": " + e["msg"] for e in exc.errors(include_input=False)]


def _registration(entry: BootstrapClient) -> Registration:
    return Registration(
        client_id=entry.client_id,
        tenant=entry.tenant,
        kind=entry.kind,
        scopes=tuple(dict.fromkeys(entry.scopes)),
        system=entry.system,
        redirect_uris=tuple(entry.redirect_uris),
    )


async def load(ctx: Job) -> int:
    """Upsert the clients of ``bootstrap_file`` or ``bootstrap_json`` (if set); return how many."""
    data = declared(ctx.settings)
    if data is None:
        return 0
    hashing = hasher(ctx.settings)
    async with ctx.database.session() as session:
        uow = ctx.unit_of_work(session, "*", ACTOR)
        # Replicas starting together load the same file: one at a time.
        await session.exec(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=LOCK))  # type: ignore[call-overload]
        for entry in data.clients:
            client = await session.get(Client, entry.client_id)
            secret_kept = client is not None and await hashing.verify(client.secret_hash, entry.secret)
            if client is not None and secret_kept and _same(client, entry):
                continue
            action = "client.bootstrapped" if client else "client.created"
            if client is None:
                client = Client(
                    client_id=entry.client_id,
                    tenant_id=entry.tenant,
                    name=entry.name,
                    kind=entry.kind.value,
                    secret_hash="",
                    created_by=ACTOR,
                    created_at=uow.now(),
                )
            for name, value in (_fields(entry) | {"disabled_at": None}).items():
                setattr(client, name, value)
            if not secret_kept:
                client.secret_hash = await hashing.hash(entry.secret)
            session.add(client)
            uow.for_tenant(entry.tenant).audit(action, "client", entry.client_id, {"kind": entry.kind.value})
    log.info("identity.bootstrap.loaded", clients=len(data.clients))
    return len(data.clients)


def _fields(entry: BootstrapClient) -> dict[str, object]:
    return {
        "tenant_id": entry.tenant,
        "name": entry.name,
        "kind": entry.kind.value,
        "scopes": list(dict.fromkeys(entry.scopes)),
        "system": entry.system,
        "redirect_uris": list(entry.redirect_uris),
    }


def _same(client: Client, entry: BootstrapClient) -> bool:
    current = {name: getattr(client, name) for name in _fields(entry)}
    return current == _fields(entry) and client.disabled_at is None
