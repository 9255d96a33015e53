"""Kafka subscriptions of the subprocessor service: the breach service's question, the notify service's
outcomes of notice and demand emails, and DSAR tasks on contacts."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.subprocessor.service.outcomes import apply_email_outcome
from services.subprocessor.service.register import identify_customers
from services.subprocessor.service.store import SYSTEM, ContactStore
from shared.bus.consumer import EventContext, Subscription
from shared.bus.notifications import notification_outcomes
from shared.bus.store import dsar_task_subscription
from shared.events.catalogue.breach import SubprocessorAffectedCustomersRequested

SERVICE = "subprocessor"


async def on_affected_customers_requested(
    session: AsyncSession, event: SubprocessorAffectedCustomersRequested, ctx: EventContext
) -> None:
    """Answer which customers' data a subprocessor processes."""
    await identify_customers(ctx.unit_of_work(session), event.request_id, event.subprocessor_id)


SUBSCRIPTIONS = [
    Subscription(
        name="breach-questions", handlers={SubprocessorAffectedCustomersRequested: on_affected_customers_requested}
    ),
    notification_outcomes(SERVICE, apply_email_outcome),
    dsar_task_subscription(SYSTEM, ContactStore()),
]
