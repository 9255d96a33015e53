"""The life of one message: queued, sent, then delivered or bounced, retried with backoff, or failed.

``sent`` means the SMTP server or the webhook endpoint accepted it; ``delivered`` that the
recipient's side confirmed it (a 2xx from a webhook is both at once; a mail is delivered when the
relay accepted it for a local mailbox or no bounce came back); ``bounced`` that it came back.
Transient errors (a 4xx SMTP reply, a timeout, a 5xx or 429 from a webhook) are retried with
exponential backoff up to ``max_attempts``; permanent ones (a 5xx SMTP reply, a 4xx webhook
answer other than 408/429) fail at once with their reason.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .errors import IllegalTransition


class DeliveryState(StrEnum):
    """Where a message stands."""

    QUEUED = "queued"
    RETRYING = "retrying"
    SENT = "sent"
    DELIVERED = "delivered"
    BOUNCED = "bounced"
    FAILED = "failed"


FINAL = frozenset({DeliveryState.DELIVERED, DeliveryState.BOUNCED, DeliveryState.FAILED})
_ALLOWED = {
    DeliveryState.QUEUED: {DeliveryState.SENT, DeliveryState.DELIVERED, DeliveryState.RETRYING, DeliveryState.FAILED},
    DeliveryState.RETRYING: {DeliveryState.SENT, DeliveryState.DELIVERED, DeliveryState.RETRYING, DeliveryState.FAILED},
    DeliveryState.SENT: {DeliveryState.DELIVERED, DeliveryState.BOUNCED},
}


def transition(current: DeliveryState, target: DeliveryState) -> DeliveryState:
    """``target`` if a delivery may move there from ``current``; ``IllegalTransition`` otherwise."""
    if target not in _ALLOWED.get(current, set()):
        raise IllegalTransition(f"a {current.value} message cannot become {target.value}")
    return target


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped, for at most ``max_attempts`` attempts."""

    max_attempts: int = 8
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=2)

    def next_attempt(self, attempts: int, now: datetime, rng: random.Random | None = None) -> datetime | None:
        """When to try again after ``attempts`` failed attempts, or None when the message should fail."""
        if attempts >= self.max_attempts:
            return None
        ceiling = min(self.cap.total_seconds(), self.base.total_seconds() * 2 ** (attempts - 1))
        jitter = (rng or random).uniform(ceiling / 2, ceiling)
        return now + timedelta(seconds=jitter)


def smtp_is_transient(code: int) -> bool:
    """An SMTP reply of class 4 is worth retrying; class 5 is final (RFC 5321 §4.2.1)."""
    return 400 <= code < 500


def http_is_transient(status: int) -> bool:
    """A webhook answer worth retrying: a server error, a timeout (408) or a rate limit (429)."""
    return status >= 500 or status in (408, 429)
