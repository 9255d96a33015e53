"""Kafka handlers of the DSAR service: store answers, what became of its messages, and its own part as a data store."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.dsar.service.notifications import Outcome, record_outcome
from services.dsar.service.store import DsarOwnData
from services.dsar.service.tasks import apply_result
from shared.bus.consumer import EventContext, Subscription
from shared.bus.store import dsar_task_subscription
from shared.events.catalogue import Event
from shared.events.catalogue.dsar import DsarTaskCompleted, DsarTaskFailed
from shared.events.catalogue.notifications import (
    NotificationDelivered,
    NotificationFailed,
    NotificationOutcome,
    NotificationSent,
)


async def on_task_result(session: AsyncSession, event: DsarTaskCompleted | DsarTaskFailed, ctx: EventContext) -> None:
    """Close the task with the store's answer; a result for an unknown task raises (dead-lettered)."""
    await apply_result(ctx.unit_of_work(session, actor=f"system:{event.system}"), event)


def is_ours(event: Event) -> bool:
    """Every service's outcomes share the topic: only DSAR's own messages are recorded here."""
    return isinstance(event, NotificationOutcome) and event.origin == "dsar"


async def on_notification_outcome(session: AsyncSession, event: Outcome, ctx: EventContext) -> None:
    """Record on the message what the notify service did with it; an unknown message raises (dead-lettered)."""
    await record_outcome(ctx.unit_of_work(session, actor="service:notify"), event)


SUBSCRIPTIONS = [
    Subscription(
        name="task-results",
        handlers={DsarTaskCompleted: on_task_result, DsarTaskFailed: on_task_result},
        batched=True,  # database only; a burst of results closes in a few transactions
    ),
    Subscription(
        name="notification-outcomes",
        handlers={
            NotificationSent: on_notification_outcome,
            NotificationDelivered: on_notification_outcome,
            NotificationFailed: on_notification_outcome,
        },
        accepts=is_ours,
        batched=True,  # database only
    ),
    dsar_task_subscription("privops-dsar", DsarOwnData()),
]
