"""Kafka subscriptions of the subprocessor service: the breach service's question, and DSAR tasks on contacts."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.subprocessor.service.register import identify_customers
from services.subprocessor.service.store import SYSTEM, ContactStore
from shared.bus.consumer import EventContext, Subscription
from shared.bus.store import dsar_task_subscription
from shared.events.catalogue.breach import SubprocessorAffectedCustomersRequested


async def on_affected_customers_requested(
    session: AsyncSession, event: SubprocessorAffectedCustomersRequested, ctx: EventContext
) -> None:
    """Answer which customers' data a subprocessor processes."""
    await identify_customers(ctx.unit_of_work(session), event.request_id, event.subprocessor_id)


SUBSCRIPTIONS = [
    Subscription(
        name="breach-questions", handlers={SubprocessorAffectedCustomersRequested: on_affected_customers_requested}
    ),
    dsar_task_subscription(SYSTEM, ContactStore()),
]
