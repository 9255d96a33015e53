"""Secrets of the local stack: generated once, kept in the git-ignored state folder."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

SMTP_USERNAME = "privops"


def _new_secret() -> str:
    return secrets.token_urlsafe(48)


@dataclass(frozen=True)
class LocalSecrets:
    """The keys every local service shares, and the login of the local SMTP server."""

    jwt_secret: str = field(default_factory=_new_secret)
    subject_hash_key: str = field(default_factory=_new_secret)
    signing_key: str = field(default_factory=_new_secret)
    smtp_username: str = SMTP_USERNAME
    smtp_password: str = field(default_factory=lambda: secrets.token_urlsafe(24))


def load_local_secrets(state_dir: Path) -> LocalSecrets:
    """Read the local secrets, creating them (mode 0600) on first use and adding any a newer version needs."""
    path = state_dir / "secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    known = {f.name for f in fields(LocalSecrets)}
    current = LocalSecrets(**{key: value for key, value in stored.items() if key in known})
    if set(stored) != known:
        # A state folder from before a secret existed keeps its old keys (data signed with them stays valid).
        state_dir.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.touch(mode=0o600)
        temporary.write_text(json.dumps(asdict(current), indent=2))
        temporary.replace(path)
    return current
