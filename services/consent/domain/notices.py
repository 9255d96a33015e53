"""Notice versions: the exact text a person was shown, identified by its hash, and when a version is in force.

A version is immutable once published. It is in force from its publication until the next version
is published or its own expiry date, whichever comes first; a decision made outside that window
cannot claim to rest on it.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from services.consent.domain.decisions import require_aware
from services.consent.domain.errors import NoticeTextMismatch, NoticeVersionExpired

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def text_hash(text: str) -> str:
    """Return the SHA-256 (hex) of a notice's text as shown, after normalising line endings."""
    return hashlib.sha256(text.replace("\r\n", "\n").encode()).hexdigest()


def is_text_hash(value: object) -> bool:
    """True when the value looks like a SHA-256 hex digest."""
    return isinstance(value, str) and _SHA256_HEX.fullmatch(value) is not None


def check_in_force(
    version: int,
    at: datetime,
    *,
    published_at: datetime,
    superseded_at: datetime | None,
    expires_at: datetime | None,
) -> None:
    """Raise ``NoticeVersionExpired`` unless notice ``version`` was in force at ``at``."""
    at = require_aware(at, "occurred_at")
    if at < require_aware(published_at, "published_at"):
        raise NoticeVersionExpired(
            "notice_version", f"version {version} was published at {published_at.isoformat()}, after the decision"
        )
    ends = [t for t in (superseded_at, expires_at) if t is not None]
    end = min(ends) if ends else None
    if end is not None and at >= end:
        raise NoticeVersionExpired(
            "notice_version",
            f"version {version} stopped being in force at {end.isoformat()}; show the current notice and ask again",
        )


def check_text_hash(version: int, shown: str | None, published: str) -> str:
    """Return the published hash, or raise ``NoticeTextMismatch`` when the hash of the text shown differs."""
    if shown is not None and shown.lower() != published:
        raise NoticeTextMismatch(
            "notice_text_hash", f"does not match the text published as version {version}; the proof would be false"
        )
    return published
