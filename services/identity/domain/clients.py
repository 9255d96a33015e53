"""What makes a client registration valid (RFC 6749 §2: confidential clients).

Kinds: a ``store`` is a product's data store answering DSAR tasks (its tokens name its system and
carry only ``dsar:task``); a ``service`` is a privops service, allowed on every tenant (tenant
``*``); a ``backend`` is a product backend calling privops; an ``admin`` is an operator's tool (the
CLI, automation), tenant-bound or, for the platform operator, on every tenant; a ``console`` is a
login client of the OpenID Connect provider, with registered redirect URIs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from shared.rules import scopes as grammar

from .errors import InvalidClient

CLIENT_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
SYSTEM_KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")  # the DSAR registry's system keys
ALL_TENANTS = "*"
TASK_SCOPE = "dsar:task"
# Special scopes only privops services hold: signing documents, claiming messages' addresses.
SERVICE_ONLY = frozenset({"identity:sign", "notify:claim"})
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
MAX_REDIRECT_URIS = 10


class ClientKind(StrEnum):
    """What a client is (and so which tokens it may get)."""

    STORE = "store"
    SERVICE = "service"
    BACKEND = "backend"
    ADMIN = "admin"
    CONSOLE = "console"


MULTI_TENANT = frozenset({ClientKind.SERVICE, ClientKind.ADMIN})


@dataclass(frozen=True)
class Registration:
    """A client as registered: the rules below apply to it whoever registers it (API or bootstrap file)."""

    client_id: str
    tenant: str
    kind: ClientKind
    scopes: tuple[str, ...]
    system: str | None = None
    redirect_uris: tuple[str, ...] = ()


def check_registration(reg: Registration) -> None:
    """Raise ``InvalidClient`` when ``reg`` breaks a rule; the message says which."""
    if not CLIENT_ID.fullmatch(reg.client_id):
        raise InvalidClient(
            "a client id is 3–64 of a-z, 0-9, '.', '_', '-' starting with a letter or digit", "client_id"
        )
    if reg.tenant == ALL_TENANTS and reg.kind not in MULTI_TENANT:
        raise InvalidClient("only service and admin clients may act on every tenant ('*')", "tenant")
    if reg.kind is ClientKind.SERVICE and reg.tenant != ALL_TENANTS:
        raise InvalidClient("a privops service client acts on every tenant: its tenant is '*'", "tenant")
    unknown = grammar.unknown(reg.scopes)
    if unknown:
        raise InvalidClient(f"unknown scope(s): {', '.join(unknown)}", "scopes")
    _check_kind(reg)


def _check_kind(reg: Registration) -> None:
    scopes = set(reg.scopes)
    if reg.kind is ClientKind.STORE:
        if not reg.system or not SYSTEM_KEY.fullmatch(reg.system):
            raise InvalidClient("a store client names its system (the DSAR registry's key, e.g. crm)", "system")
        if scopes != {TASK_SCOPE}:
            raise InvalidClient(f"a store client's only scope is {TASK_SCOPE}", "scopes")
    elif reg.system is not None:
        raise InvalidClient("only store clients name a system", "system")
    elif TASK_SCOPE in scopes and reg.kind is not ClientKind.SERVICE:
        # A privops service answers DSAR tasks as the system privops-<name>, which its subject names.
        raise InvalidClient(f"{TASK_SCOPE} is held by store clients, which name their system", "scopes")
    if reg.kind is not ClientKind.SERVICE and scopes & SERVICE_ONLY:
        shown = ", ".join(sorted(scopes & SERVICE_ONLY))
        raise InvalidClient(f"{shown} is held by privops service clients only", "scopes")
    if reg.kind is ClientKind.CONSOLE:
        if scopes:
            raise InvalidClient("a console's tokens carry its users' roles: it has no scopes of its own", "scopes")
        if not reg.redirect_uris:
            raise InvalidClient("a console client registers at least one redirect URI", "redirect_uris")
        if len(reg.redirect_uris) > MAX_REDIRECT_URIS:
            raise InvalidClient(f"at most {MAX_REDIRECT_URIS} redirect URIs", "redirect_uris")
        for uri in reg.redirect_uris:
            check_redirect_uri(uri)
    elif reg.redirect_uris:
        raise InvalidClient("only console clients register redirect URIs", "redirect_uris")


def check_redirect_uri(uri: str) -> None:
    """An absolute https URI without fragment; plain http only on the loopback (RFC 8252 §7.3)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise InvalidClient("a redirect URI is an absolute URL", "redirect_uris") from None
    if parts.fragment or "#" in uri:
        raise InvalidClient("a redirect URI has no fragment (RFC 6749 §3.1.2)", "redirect_uris")
    if not parts.netloc or parts.scheme not in ("https", "http"):
        raise InvalidClient("a redirect URI is an absolute http(s) URL", "redirect_uris")
    if parts.scheme == "http" and (parts.hostname or "") not in LOOPBACK_HOSTS:
        raise InvalidClient("a redirect URI uses https (plain http only on the loopback)", "redirect_uris")


def subject(kind: ClientKind, client_id: str, system: str | None) -> str:
    """The ``sub`` of a client's tokens: ``system:<key>``, ``service:<client id>`` or ``client:<client id>``."""
    if kind is ClientKind.STORE and system:
        return f"system:{system}"
    if kind is ClientKind.SERVICE:
        return f"service:{client_id}"
    return f"client:{client_id}"


def widening(held: Sequence[str], wanted: Sequence[str]) -> list[str]:
    """The scopes of ``wanted`` a holder of ``held`` may not hand out (no one hands out more than they hold)."""
    return grammar.beyond(held, wanted)
