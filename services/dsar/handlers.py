"""Kafka handlers of the DSAR service: store answers, outbound mail, and its own part as a data store."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.dsar.service.mail.sender import deliver
from services.dsar.service.store import DsarOwnData
from services.dsar.service.tasks import apply_result
from shared.bus.consumer import EventContext, Subscription
from shared.bus.store import dsar_task_subscription
from shared.events.catalogue.dsar import DsarTaskCompleted, DsarTaskFailed
from shared.events.catalogue.notifications import NotificationRequested


async def on_task_result(session: AsyncSession, event: DsarTaskCompleted | DsarTaskFailed, ctx: EventContext) -> None:
    """Close the task with the store's answer; a result for an unknown task raises (dead-lettered)."""
    await apply_result(ctx.unit_of_work(session, actor=f"system:{event.system}"), event)


async def on_notification(session: AsyncSession, event: NotificationRequested, ctx: EventContext) -> None:
    """Deliver a message to its recipient (email only), claimed from the service that queued it."""
    await deliver(ctx.unit_of_work(session, actor="service:mail-sender"), event)


SUBSCRIPTIONS = [
    Subscription(
        name="task-results",
        handlers={DsarTaskCompleted: on_task_result, DsarTaskFailed: on_task_result},
        batched=True,  # database only; a burst of results closes in a few transactions
    ),
    Subscription(name="mail-sender", handlers={NotificationRequested: on_notification}),
    dsar_task_subscription("privops-dsar", DsarOwnData()),
]
