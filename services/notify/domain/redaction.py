"""What may be said about a delivery: reasons as the server put them, without the addresses they quote."""

from __future__ import annotations

import re

ADDRESS = re.compile(r"<?[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*>?")
MAX_REASON = 1000


def redact(reason: str) -> str:
    """``reason`` with every email address replaced by ``<address>`` and cut to the event's limit."""
    return ADDRESS.sub("<address>", reason).strip()[:MAX_REASON]


def pick_locale(*candidates: str | None) -> str:
    """The first locale given (claim, event, tenant default), else English."""
    return next((c for c in candidates if c), "en")
