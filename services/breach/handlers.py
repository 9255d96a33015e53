"""Kafka handlers of the breach service: the subprocessor service's answer, the notify service's delivery
outcomes, and DSAR tasks (as a data store)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.breach.service.deliveries import apply_outcome
from services.breach.service.incidents import customers_identified
from services.breach.service.store import BreachStore
from shared.bus.consumer import EventContext, Subscription
from shared.bus.notifications import notification_outcomes
from shared.bus.store import dsar_task_subscription
from shared.events.catalogue.subprocessor import SubprocessorCustomersIdentified

STORE_SYSTEM = "privops-breach"
SERVICE = "breach"


async def on_customers_identified(
    session: AsyncSession, event: SubprocessorCustomersIdentified, ctx: EventContext
) -> None:
    """The customers using a breached subprocessor become the incident's affected customers."""
    await customers_identified(ctx.unit_of_work(session), event.request_id, event.customer_ids)


SUBSCRIPTIONS = [
    Subscription(name="subprocessor-answers", handlers={SubprocessorCustomersIdentified: on_customers_identified}),
    notification_outcomes(SERVICE, apply_outcome),
    dsar_task_subscription(STORE_SYSTEM, BreachStore()),
]
