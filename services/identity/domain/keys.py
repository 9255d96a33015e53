"""Signing keys over time: when the token key rotates, which keys a JWKS publishes, key ids.

The active token key signs; when it retires, its public half stays published until every token it
signed has expired (retired at + the longest token lifetime + clock skew), then it is dropped. A
tenant's document keys (certificates of erasure, consent receipts) are published forever: a
certificate must verify years later. A key's ``kid`` is its RFC 7638 JWK thumbprint.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# Tokens are checked with this much leeway (shared.runtime.auth.CLOCK_SKEW is 30 s): keep keys a little longer.
SKEW = timedelta(minutes=2)


class KeyUse(StrEnum):
    """What a key signs."""

    TOKEN = "token"  # access and id tokens; one active key for the whole service
    DOCUMENT = "document"  # a tenant's signed documents; one active key per tenant


@dataclass(frozen=True)
class KeyWindow:
    """When a key began signing and, once rotated, when it stopped."""

    kid: str
    created_at: datetime
    retired_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Whether this key signs now."""
        return self.retired_at is None


def thumbprint(x: str) -> str:
    """The RFC 7638 thumbprint of an Ed25519 public key (its JWK ``x``), base64url without padding: its kid."""
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def published_until(key: KeyWindow, max_token_ttl: timedelta) -> datetime | None:
    """Until when a token key is published: ``None`` while active, else when its last token has expired."""
    return None if key.retired_at is None else key.retired_at + max_token_ttl + SKEW


def is_published(key: KeyWindow, now: datetime, max_token_ttl: timedelta) -> bool:
    """Whether a token key belongs in the JWKS at ``now``."""
    until = published_until(key, max_token_ttl)
    return until is None or now < until


def published(keys: Iterable[KeyWindow], now: datetime, max_token_ttl: timedelta) -> list[KeyWindow]:
    """The token keys a JWKS lists at ``now``: the active one first, then retired ones still needed, newest first."""
    return sorted(
        (k for k in keys if is_published(k, now, max_token_ttl)),
        key=lambda k: (k.active, k.created_at),
        reverse=True,
    )


def droppable(keys: Iterable[KeyWindow], now: datetime, max_token_ttl: timedelta) -> list[str]:
    """The kids of retired token keys no token can still need: they may be deleted with their private half."""
    return [k.kid for k in keys if not is_published(k, now, max_token_ttl)]


def rotation_due(active: KeyWindow | None, now: datetime, every: timedelta) -> bool:
    """Whether the token key must rotate at ``now`` (no active key, or the active one is ``every`` old)."""
    return active is None or now >= active.created_at + every


def active_key(keys: Sequence[KeyWindow]) -> KeyWindow | None:
    """The newest key that has not retired, if any."""
    current = [k for k in keys if k.active]
    return max(current, key=lambda k: k.created_at) if current else None
