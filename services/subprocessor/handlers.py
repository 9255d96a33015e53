"""Kafka subscriptions of the subprocessor service: the breach service's question, the notify service's
outcomes of notice emails, and DSAR tasks on contacts."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.subprocessor.service.outcomes import Outcome, record_email_outcome
from services.subprocessor.service.register import identify_customers
from services.subprocessor.service.store import SYSTEM, ContactStore
from shared.bus.consumer import EventContext, Subscription
from shared.bus.store import dsar_task_subscription
from shared.events.catalogue.breach import SubprocessorAffectedCustomersRequested
from shared.events.catalogue.notifications import (
    NotificationDelivered,
    NotificationFailed,
    NotificationOutcome,
    NotificationSent,
)

SERVICE = "subprocessor"
OUTCOMES: dict[type[NotificationOutcome], Outcome] = {
    NotificationSent: "sent",
    NotificationDelivered: "delivered",
    NotificationFailed: "failed",
}


async def on_affected_customers_requested(
    session: AsyncSession, event: SubprocessorAffectedCustomersRequested, ctx: EventContext
) -> None:
    """Answer which customers' data a subprocessor processes."""
    await identify_customers(ctx.unit_of_work(session), event.request_id, event.subprocessor_id)


async def on_notification_outcome(session: AsyncSession, event: NotificationOutcome, ctx: EventContext) -> None:
    """A notice email was sent, delivered (an email-only customer's window opens) or failed (with the reason)."""
    await record_email_outcome(
        ctx.unit_of_work(session),
        event.notification_id,
        OUTCOMES[type(event)],
        at=event.at,
        attempts=event.attempts,
        reason=event.reason if isinstance(event, NotificationFailed) else None,
    )


SUBSCRIPTIONS = [
    Subscription(
        name="breach-questions", handlers={SubprocessorAffectedCustomersRequested: on_affected_customers_requested}
    ),
    Subscription(
        name="notification-outcomes",
        handlers=dict.fromkeys(OUTCOMES, on_notification_outcome),
        # The outcomes topic carries every service's messages: only those this service asked for.
        accepts=lambda event: isinstance(event, NotificationOutcome) and event.origin == SERVICE,
    ),
    dsar_task_subscription(SYSTEM, ContactStore()),
]
