"""Kafka handlers of the breach service: the subprocessor service's answer, the notify service's delivery
outcomes, and DSAR tasks (as a data store)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.breach.domain.deliveries import DeliveryStatus
from services.breach.service.deliveries import record_outcome
from services.breach.service.incidents import customers_identified
from services.breach.service.store import BreachStore
from shared.bus.consumer import EventContext, Subscription
from shared.bus.store import dsar_task_subscription
from shared.events.catalogue.notifications import (
    NotificationDelivered,
    NotificationFailed,
    NotificationOutcome,
    NotificationSent,
)
from shared.events.catalogue.subprocessor import SubprocessorCustomersIdentified

STORE_SYSTEM = "privops-breach"
SERVICE = "breach"
OUTCOMES: dict[type[NotificationOutcome], DeliveryStatus] = {
    NotificationSent: DeliveryStatus.SENT,
    NotificationDelivered: DeliveryStatus.DELIVERED,
    NotificationFailed: DeliveryStatus.FAILED,
}


async def on_customers_identified(
    session: AsyncSession, event: SubprocessorCustomersIdentified, ctx: EventContext
) -> None:
    """The customers using a breached subprocessor become the incident's affected customers."""
    await customers_identified(ctx.unit_of_work(session), event.request_id, event.customer_ids)


async def on_notification_outcome(session: AsyncSession, event: NotificationOutcome, ctx: EventContext) -> None:
    """A notice's delivery becomes sent, delivered or failed (with the reason), on the notice and the timeline."""
    await record_outcome(
        ctx.unit_of_work(session),
        event.notification_id,
        OUTCOMES[type(event)],
        at=event.at,
        attempts=event.attempts,
        reason=event.reason if isinstance(event, NotificationFailed) else None,
    )


SUBSCRIPTIONS = [
    Subscription(name="subprocessor-answers", handlers={SubprocessorCustomersIdentified: on_customers_identified}),
    Subscription(
        name="notification-outcomes",
        handlers=dict.fromkeys(OUTCOMES, on_notification_outcome),
        # The outcomes topic carries every service's messages: only those this service asked for.
        accepts=lambda event: isinstance(event, NotificationOutcome) and event.origin == SERVICE,
    ),
    dsar_task_subscription(STORE_SYSTEM, BreachStore()),
]
