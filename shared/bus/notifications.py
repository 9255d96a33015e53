"""What a service that asks for messages subscribes to: the outcomes of its own notifications.

Every service's outcomes share ``privops.notifications.outcomes``; a service records only those
whose ``origin`` is its own name, each in the unit of work of the event (actor ``service:notify``).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.bus.subscription import EventContext, Subscription
from shared.events.catalogue import Event
from shared.events.catalogue.notifications import (
    NotificationDelivered,
    NotificationFailed,
    NotificationOutcome,
    NotificationSent,
)
from shared.runtime.uow import UnitOfWork

OUTCOME_TYPES = (NotificationSent, NotificationDelivered, NotificationFailed)
OutcomeKind = Literal["sent", "delivered", "failed"]


@dataclass(frozen=True)
class Outcome:
    """What became of one notification, as the requester records it."""

    notification_id: uuid.UUID
    kind: OutcomeKind
    at: datetime
    attempts: int
    reason: str | None = None

    @classmethod
    def of(cls, event: NotificationOutcome) -> Outcome:
        """The outcome an event reports (the reason only for a failure)."""
        if isinstance(event, NotificationFailed):
            return cls(event.notification_id, "failed", event.at, event.attempts, event.reason)
        kind: OutcomeKind = "delivered" if isinstance(event, NotificationDelivered) else "sent"
        return cls(event.notification_id, kind, event.at, event.attempts)


OutcomeRecorder = Callable[[UnitOfWork[Any], Outcome], Awaitable[None]]


def notification_outcomes(service: str, record: OutcomeRecorder, *, batched: bool = False) -> Subscription:
    """The ``notification-outcomes`` group of ``service``: each of its outcomes applied by ``record``."""

    async def on_outcome(session: AsyncSession, event: NotificationOutcome, ctx: EventContext) -> None:
        await record(ctx.unit_of_work(session, actor="service:notify"), Outcome.of(event))

    def ours(event: Event) -> bool:
        return isinstance(event, NotificationOutcome) and event.origin == service

    return Subscription(
        name="notification-outcomes",
        handlers=dict.fromkeys(OUTCOME_TYPES, on_outcome),
        accepts=ours,
        batched=batched,
    )
