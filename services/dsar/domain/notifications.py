"""Where a message to a data subject stands, from the outcomes the notify service reported."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class DeliveryState(StrEnum):
    """What became of a message: asked for, accepted by the relay, in the mailbox, or given up."""

    REQUESTED = "requested"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


def delivery_state(
    sent_at: datetime | None, delivered_at: datetime | None, failed_at: datetime | None
) -> DeliveryState:
    """The state the latest outcome says, whatever order the outcomes arrived in.

    A failure after a delivery is a bounce (the mailbox refused it after the relay's 250) and wins;
    a delivery reported after a failure (a later retry got through) wins back.
    """
    if failed_at is not None and (delivered_at is None or failed_at >= delivered_at):
        return DeliveryState.FAILED
    if delivered_at is not None:
        return DeliveryState.DELIVERED
    if sent_at is not None:
        return DeliveryState.SENT
    return DeliveryState.REQUESTED


def normalise_locale(tag: str | None) -> str | None:
    """A language tag as templates are named: the language in lower case, its region in upper case (``fr-CA``)."""
    if not tag:
        return None
    language, *rest = tag.replace("_", "-").split("-")
    return "-".join([language.lower(), *(part.upper() if len(part) == 2 else part for part in rest)])
