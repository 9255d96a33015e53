"""How a notice's delivery moves on the notify service's outcomes (pure).

Outcomes of one message can arrive twice or out of order (a retry, a redelivery, a bounce reported
after the mailbox accepted the message): an outcome that would move a delivery backwards is stale
and changes nothing, so the status only ever moves forward.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Final


class DeliveryStatus(StrEnum):
    """Where one hand-over of a sent notice stands."""

    REQUESTED = "requested"  # handed to the notify service (or waiting for a person, on a portal)
    SENT = "sent"  # the mail relay or webhook endpoint accepted it
    DELIVERED = "delivered"  # it reached the recipient
    FAILED = "failed"  # given up, with the reason
    SUBMITTED = "submitted"  # a person confirmed a submission on the authority's portal
    UNREACHABLE = "unreachable"  # no address to send it to (a person attached by reference only), with the reason


# Nothing more will happen to a delivery in these states (a bounce after "delivered" aside).
FINAL: Final = frozenset(
    {DeliveryStatus.DELIVERED, DeliveryStatus.FAILED, DeliveryStatus.SUBMITTED, DeliveryStatus.UNREACHABLE}
)


_MOVES: Final[dict[DeliveryStatus, frozenset[DeliveryStatus]]] = {
    DeliveryStatus.SENT: frozenset({DeliveryStatus.REQUESTED}),
    DeliveryStatus.DELIVERED: frozenset({DeliveryStatus.REQUESTED, DeliveryStatus.SENT}),
    # A bounce may be reported after the message was taken as delivered: the bounce is the truth.
    DeliveryStatus.FAILED: frozenset({DeliveryStatus.REQUESTED, DeliveryStatus.SENT, DeliveryStatus.DELIVERED}),
}


def after_outcome(current: DeliveryStatus | str, outcome: DeliveryStatus | str) -> DeliveryStatus | None:
    """The status a delivery takes on a notify outcome, or None when the outcome is stale or repeated."""
    target = DeliveryStatus(outcome)
    return target if DeliveryStatus(current) in _MOVES.get(target, frozenset()) else None


def all_final(statuses: Iterable[DeliveryStatus | str]) -> bool:
    """True when every delivery of a notice reached an end (an empty notice is not complete)."""
    seen = [DeliveryStatus(status) for status in statuses]
    return bool(seen) and all(status in FINAL for status in seen)


def count_by_status(statuses: Iterable[DeliveryStatus | str]) -> dict[str, int]:
    """How many deliveries are in each status (every status named, zeros included)."""
    counts = dict.fromkeys((status.value for status in DeliveryStatus), 0)
    for status in statuses:
        counts[DeliveryStatus(status).value] += 1
    return counts
