"""The OAuth clients of a local stack: each component holds only the credentials it needs.

The identity service is the one component with private keys. Every other part is a client of it
(RFC 6749 §4.4 client credentials) with its own secret and exactly its scopes:

- each privops service (tenant ``*``: it acts for the tenant of the work at hand): ``dsar:task``
  to answer erasure tasks as ``privops-<service>``; ``identity:sign`` for the services that issue
  signed documents (consent receipts, certificates of erasure); ``notify:claim`` for notify;
- each demo store: ``dsar:task`` for its own system and the demo tenant, nothing else;
- the operator's CLI (``privops token``, ``privops dlq``, ``privops evidence``, the demo seeding):
  every admin scope and ``evidence:read``.

The secrets are generated once and kept in the state folder (``secrets.json``, mode 0600); the
identity service reads them from its bootstrap file, where they are hashed on load.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from shared.rules.scopes import EVIDENCE_READ
from shared.runtime.auth import SERVICES, admin_scopes

CLI_CLIENT = "privops-cli"
# What each privops service asks the identity service for, beyond its own API (which it verifies).
SERVICE_SCOPES: dict[str, tuple[str, ...]] = {
    "consent": ("dsar:task", "identity:sign"),
    "dsar": ("dsar:task", "identity:sign"),
    "retention": ("dsar:task",),
    "breach": ("dsar:task",),
    "subprocessor": ("dsar:task",),
    "notify": ("dsar:task", "notify:claim"),
}
STORES = {"crm-store": "crm", "analytics-store": "analytics"}
# The portal: its own service client files requests and records consent for people of the privacy
# center; its console client signs the privacy team in (OIDC), whose tokens carry their roles.
PORTAL_CLIENT = "portal"
PORTAL_SCOPES = ("dsar:write", "consent:write", "notify:read")  # notify: the brand colour
PORTAL_CONSOLE_CLIENT = "portal-console"


@dataclass(frozen=True)
class ClientSpec:
    """One client of the bootstrap file."""

    client_id: str
    tenant: str
    name: str
    kind: str
    scopes: tuple[str, ...]
    system: str | None = None
    redirect_uris: tuple[str, ...] = ()


def client_specs(tenant: str, portal_url: str | None = None) -> list[ClientSpec]:
    """Every client a local stack declares: the services, the demo stores of ``tenant``, the CLI, and the
    portal's two clients when it runs at ``portal_url``."""
    specs = [
        ClientSpec(service, "*", f"privops {service} service", "service", SERVICE_SCOPES[service])
        for service in SERVICES
        if service in SERVICE_SCOPES
    ]
    specs += [
        ClientSpec(f"{system}-store", tenant, f"demo {system} store", "store", ("dsar:task",), system)
        for system in STORES.values()
    ]
    specs.append(
        ClientSpec(
            CLI_CLIENT, "*", "the operator's command line", "admin", (*admin_scopes(), EVIDENCE_READ, "platform:admin")
        )
    )
    if portal_url:
        specs.append(ClientSpec(PORTAL_CLIENT, "*", "privops portal (privacy center)", "service", PORTAL_SCOPES))
        callback = f"{portal_url.rstrip('/')}/console/callback"
        specs.append(
            ClientSpec(PORTAL_CONSOLE_CLIENT, tenant, "privops console", "console", (), redirect_uris=(callback,))
        )
    return specs


def bootstrap_document(specs: Iterable[ClientSpec], secrets: Mapping[str, str]) -> dict[str, Any]:
    """The identity service's bootstrap file for these clients and their secrets."""
    return {
        "clients": [
            {
                "client_id": spec.client_id,
                "secret": secrets[spec.client_id],
                "tenant": spec.tenant,
                "name": spec.name,
                "kind": spec.kind,
                "scopes": list(spec.scopes),
                **({"system": spec.system} if spec.system else {}),
                **({"redirect_uris": list(spec.redirect_uris)} if spec.redirect_uris else {}),
            }
            for spec in specs
        ]
    }


def write_bootstrap(path: Path, specs: Iterable[ClientSpec], secrets: Mapping[str, str]) -> Path:
    """Write the bootstrap file (mode 0600) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.touch(mode=0o600)
    temporary.write_text(json.dumps(bootstrap_document(specs, secrets), indent=2))
    temporary.replace(path)
    return path


def service_client_env(service: str, identity_url: str, secrets: Mapping[str, str]) -> dict[str, str]:
    """A privops service's identity settings (prefix ``<SERVICE>_``)."""
    prefix = f"{service.upper()}_"
    return {
        prefix + "IDENTITY_URL": identity_url,
        prefix + "CLIENT_ID": service,
        prefix + "CLIENT_SECRET": secrets[service],
    }


def store_client_env(store: str, identity_url: str, secrets: Mapping[str, str]) -> dict[str, str]:
    """A demo store's SDK settings: its own client, nothing shared."""
    client_id = f"{STORES[store]}-store"
    return {
        "PRIVOPS_IDENTITY_URL": identity_url,
        "PRIVOPS_CLIENT_ID": client_id,
        "PRIVOPS_CLIENT_SECRET": secrets[client_id],
    }


class TokenError(RuntimeError):
    """The identity service refused or could not be reached; the message says what to do."""


def request_token(
    identity_url: str, client_id: str, secret: str, tenant: str, scopes: Iterable[str], *, timeout: float = 10.0
) -> str:
    """A token from the identity service (client credentials), for ``tenant`` with ``scopes``."""
    data = {"grant_type": "client_credentials", "scope": " ".join(sorted(set(scopes))), "tenant": tenant}
    try:
        response = httpx.post(
            identity_url.rstrip("/") + "/oauth/token", data=data, auth=(client_id, secret), timeout=timeout
        )
    except httpx.HTTPError as exc:
        reason = f"the identity service at {identity_url} is not reachable ({exc}): is the stack running?"
        raise TokenError(reason) from None
    if response.status_code != 200:
        raise TokenError(f"the identity service refused the token ({response.status_code}): {response.text[:300]}")
    return str(response.json()["access_token"])


@dataclass(frozen=True)
class CliCredentials:
    """Where the operator's CLI gets its tokens, and with what."""

    identity_url: str
    client_id: str
    secret: str
    source: str

    def token(self, tenant: str, scopes: Iterable[str]) -> str:
        """A token for ``tenant``."""
        return request_token(self.identity_url, self.client_id, self.secret, tenant, scopes)


def find_state_dir(start: Path | None = None) -> Path | None:
    """``PRIVOPS_STATE_DIR``, else the nearest ``.privops`` folder holding secrets, from ``start`` upwards."""
    if os.environ.get("PRIVOPS_STATE_DIR"):
        return Path(os.environ["PRIVOPS_STATE_DIR"])
    here = (start or Path.cwd()).absolute()
    for folder in (here, *here.parents):
        if (folder / ".privops" / "secrets.json").exists():
            return folder / ".privops"
    return None


def cli_credentials(start: Path | None = None) -> CliCredentials:
    """The CLI's client: from ``PRIVOPS_IDENTITY_URL``/``PRIVOPS_CLIENT_ID``/``PRIVOPS_CLIENT_SECRET``, else from
    the local stack's state folder (found from the current folder upwards); never a made-up secret."""
    url, client_id, secret = (os.environ.get(f"PRIVOPS_{n}") for n in ("IDENTITY_URL", "CLIENT_ID", "CLIENT_SECRET"))
    if url and client_id and secret:
        return CliCredentials(url, client_id, secret, "PRIVOPS_IDENTITY_URL/CLIENT_ID/CLIENT_SECRET")
    state = find_state_dir(start)
    if state is None:
        raise TokenError(
            "no credentials: set PRIVOPS_IDENTITY_URL, PRIVOPS_CLIENT_ID and PRIVOPS_CLIENT_SECRET, or run from the "
            "checkout whose `make run` is running (its .privops/ folder), or set PRIVOPS_STATE_DIR"
        )
    stored = json.loads((state / "secrets.json").read_text())
    secret = (stored.get("clients") or {}).get(CLI_CLIENT)
    stack = state / "stack.json"
    identity = url or (json.loads(stack.read_text()).get("urls", {}).get("identity") if stack.exists() else None)
    if not secret or not identity:
        raise TokenError(f"{state}: no running local stack with an identity service (start it with `make run`)")
    return CliCredentials(identity, CLI_CLIENT, secret, str(state))
