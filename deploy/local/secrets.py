"""Secrets of the local stack: generated once, kept in the git-ignored state folder."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

SMTP_USERNAME = "privops"


def _new_secret() -> str:
    return secrets.token_urlsafe(48)


@dataclass(frozen=True)
class LocalSecrets:
    """The local stack's keys, the OAuth clients' secrets, and the login of the local SMTP server.

    ``jwt_secret`` is only for the development mode (HS256) of tests and benchmarks: ``privops up``
    runs the identity service, which alone holds private keys (encrypted with
    ``identity_key_encryption_key``); every other component has a client secret of its own.
    """

    jwt_secret: str = field(default_factory=_new_secret)
    subject_hash_key: str = field(default_factory=_new_secret)
    signing_key: str = field(default_factory=_new_secret)
    smtp_username: str = SMTP_USERNAME
    smtp_password: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    identity_key_encryption_key: str = field(default_factory=_new_secret)
    # The demo tenant's DPO (dpo@demo.example) signs in to the portal's console with it.
    demo_dpo_password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    clients: dict[str, str] = field(default_factory=dict)

    def with_clients(self, client_ids: list[str]) -> LocalSecrets:
        """These secrets plus a new secret for each client that has none yet."""
        missing = {cid: _new_secret() for cid in client_ids if cid not in self.clients}
        return self if not missing else replace(self, clients={**self.clients, **missing})


def load_local_secrets(state_dir: Path, client_ids: list[str] | None = None) -> LocalSecrets:
    """Read the local secrets, creating them (mode 0600) on first use and adding any a newer version needs
    (a new key, or a secret for each of ``client_ids`` that has none)."""
    path = state_dir / "secrets.json"
    stored: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    known = {f.name for f in fields(LocalSecrets)}
    current = LocalSecrets(**{key: value for key, value in stored.items() if key in known})
    current = current.with_clients(client_ids or [])
    if set(stored) != known or current.clients != stored.get("clients"):
        # A state folder from before a secret existed keeps its old keys (data signed with them stays valid).
        state_dir.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.touch(mode=0o600)
        temporary.write_text(json.dumps(asdict(current), indent=2))
        temporary.replace(path)
    return current
