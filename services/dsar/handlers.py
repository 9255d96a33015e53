"""Kafka handlers of the DSAR service: store answers, outbound mail, and its own part as a data store."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.dsar.notify.sender import SUBSCRIPTION as MAIL_SENDER
from services.dsar.service.context import Ctx
from services.dsar.service.own_data import DsarOwnData
from services.dsar.service.tasks import apply_result
from services.dsar.settings import DsarSettings
from shared.bus.consumer import EventContext, Subscription
from shared.bus.store import dsar_task_subscription
from shared.events.catalogue.dsar import DsarTaskCompleted, DsarTaskFailed


async def on_task_result(session: AsyncSession, event: DsarTaskCompleted | DsarTaskFailed, ctx: EventContext) -> None:
    """Close the task with the store's answer; a result for an unknown task raises (dead-lettered)."""
    settings = ctx.settings
    assert isinstance(settings, DsarSettings)
    unit = Ctx(session, settings, ctx.clock, ctx.tenant_id, actor=f"system:{event.system}")
    await apply_result(unit, event)


SUBSCRIPTIONS = [
    Subscription(
        name="task-results",
        handlers={DsarTaskCompleted: on_task_result, DsarTaskFailed: on_task_result},
        batched=True,  # database only; a burst of results closes in a few transactions
    ),
    MAIL_SENDER,
    dsar_task_subscription("privops-dsar", DsarOwnData()),
]
