"""Secrets of the local stack: generated once, kept in the git-ignored state folder."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class LocalSecrets:
    """The keys every local service shares."""

    jwt_secret: str
    subject_hash_key: str
    signing_key: str


def load_local_secrets(state_dir: Path) -> LocalSecrets:
    """Read the local secrets, creating them (mode 0600) on first use."""
    path = state_dir / "secrets.json"
    if path.exists():
        return LocalSecrets(**json.loads(path.read_text()))
    state_dir.mkdir(parents=True, exist_ok=True)
    created = LocalSecrets(
        jwt_secret=secrets.token_urlsafe(48),
        subject_hash_key=secrets.token_urlsafe(48),
        signing_key=secrets.token_urlsafe(48),
    )
    path.touch(mode=0o600)
    path.write_text(json.dumps(asdict(created), indent=2))
    return created
