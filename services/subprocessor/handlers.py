"""Kafka handlers of the subprocessor service: the breach service's question, and DSAR tasks on contacts."""

from __future__ import annotations

import uuid

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.subprocessor.models import Subprocessor
from services.subprocessor.service.register import customers_of
from services.subprocessor.service.store import SYSTEM, ContactStore
from shared.bus.consumer import EventContext, Subscription
from shared.bus.outbox import stage
from shared.bus.store import dsar_task_subscription
from shared.events.catalogue.breach import SubprocessorAffectedCustomersRequested
from shared.events.catalogue.subprocessor import SubprocessorCustomersIdentified


async def find_subprocessor(session: AsyncSession, tenant_id: str, key: str) -> Subprocessor | None:
    """A subprocessor named by its id or, failing that, by its name (case-insensitive)."""
    try:
        sub = await session.get(Subprocessor, uuid.UUID(key))
        return sub if sub is not None and sub.tenant_id == tenant_id else None
    except ValueError:
        rows = await session.exec(
            select(Subprocessor).where(
                col(Subprocessor.tenant_id) == tenant_id, func.lower(Subprocessor.name) == key.strip().lower()
            )
        )
        return rows.first()


async def on_affected_customers_requested(
    session: AsyncSession, event: SubprocessorAffectedCustomersRequested, ctx: EventContext
) -> None:
    """Answer which customers' data a subprocessor processes (an unknown subprocessor has none)."""
    sub = await find_subprocessor(session, ctx.tenant_id, event.subprocessor_id)
    customers = await customers_of(session, ctx.tenant_id, sub.id) if sub else []
    await stage(
        session,
        SubprocessorCustomersIdentified(
            request_id=event.request_id,
            subprocessor_id=event.subprocessor_id,
            customer_ids=[c.reference for c in customers],
        ),
        tenant_id=ctx.tenant_id,
        subject=event.subprocessor_id,
        clock=ctx.clock,
        service=ctx.settings.service_name,
    )


SUBSCRIPTIONS = [
    Subscription(
        name="breach-questions", handlers={SubprocessorAffectedCustomersRequested: on_affected_customers_requested}
    ),
    dsar_task_subscription(SYSTEM, ContactStore()),
]
