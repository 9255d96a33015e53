"""A message's life as its delivery log and the events its origin learns it from."""

from __future__ import annotations

from services.notify.domain import DeliveryState, redact, transition
from services.notify.models import Message
from services.notify.service import Uow
from shared.events.catalogue.notifications import (
    NotificationDelivered,
    NotificationFailed,
    NotificationOutcome,
    NotificationSent,
)

ALERT_ORIGIN = "notify"


def _fields(uow: Uow, message: Message) -> dict[str, object]:
    # An alert was raised by notify itself: its outcomes are not news to the service whose event caused it.
    origin = ALERT_ORIGIN if message.kind == "alert" else message.origin
    return {
        "notification_id": message.id,
        "origin": origin,
        "channel": message.channel,
        "template": message.template,
        "attempts": message.attempts,
        "at": uow.now(),
    }


async def _stage(uow: Uow, event: NotificationOutcome, message: Message) -> None:
    await uow.stage(event, subject=str(message.id))


async def mark_sent(uow: Uow, message: Message, *, delivered: bool) -> None:
    """The relay or endpoint accepted the message (and, when ``delivered``, it reached the recipient)."""
    now = uow.now()
    target = DeliveryState.DELIVERED if delivered else DeliveryState.SENT
    message.state = transition(DeliveryState(message.state), target).value
    message.sent_at, message.next_attempt_at, message.last_error = now, None, None
    await _stage(uow, NotificationSent(**_fields(uow, message)), message)
    if delivered:
        message.delivered_at = now
        await _stage(uow, NotificationDelivered(**_fields(uow, message)), message)
    uow.session.add(message)


async def mark_delivered(uow: Uow, message: Message) -> None:
    """A sent mail's bounce window passed without a bounce: it counts as delivered."""
    message.state = transition(DeliveryState(message.state), DeliveryState.DELIVERED).value
    message.delivered_at = uow.now()
    uow.session.add(message)
    await _stage(uow, NotificationDelivered(**_fields(uow, message)), message)


async def mark_failed(uow: Uow, message: Message, reason: str, *, bounced: bool = False) -> None:
    """The message is given up (or came back) with ``reason``, which its origin learns."""
    reason = redact(reason) or "unknown reason"
    target = DeliveryState.BOUNCED if bounced else DeliveryState.FAILED
    message.state = transition(DeliveryState(message.state), target).value
    message.failed_at, message.next_attempt_at, message.last_error = uow.now(), None, reason
    uow.session.add(message)
    await _stage(uow, NotificationFailed(**_fields(uow, message), reason=reason), message)
