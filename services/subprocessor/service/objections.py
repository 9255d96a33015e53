"""Objections: a customer objects within its window, the change is held for it, and each objection is resolved."""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from services.subprocessor.domain import (
    ChangeState,
    ObjectionResolution,
    raise_objection,
    resolve_objection,
    transition,
)
from services.subprocessor.models import Customer, Objection, SubprocessorChange
from services.subprocessor.service import notices as notice_service
from services.subprocessor.service.changes import audit_change, cancel, objections_of, to_domain
from services.subprocessor.settings import SubprocessorSettings
from shared.bus.outbox import stage
from shared.events.catalogue.subprocessor import SubprocessorObjectionReceived
from shared.rules.clock import Clock
from shared.rules.errors import Conflict, NotFound


async def object_to_change(
    session: AsyncSession,
    change: SubprocessorChange,
    customer_id: uuid.UUID,
    reason: str,
    *,
    via: str,
    actor: str,
    clock: Clock,
    settings: SubprocessorSettings,
) -> Objection:
    """Record a customer's objection within its window; the change is held for that customer."""
    now = clock.now()
    notices = await notice_service.notices_of(session, change.id)
    objections = await objections_of(session, change.id)
    domain_change, domain_notices, _ = to_domain(change, notices, objections)
    raise_objection(domain_change, domain_notices, customer_id=str(customer_id), raised_at=now, reason=reason)
    if any(o.customer_id == customer_id and o.resolution is None for o in objections):
        raise Conflict("This customer already has an unresolved objection to the change.")
    objection = Objection(
        tenant_id=change.tenant_id,
        change_id=change.id,
        customer_id=customer_id,
        reason=reason,
        raised_at=now,
        raised_via=via,
    )
    session.add(objection)
    if change.state != ChangeState.HELD:
        change.state = transition(ChangeState(change.state), ChangeState.HELD).value
        session.add(change)
    customer = await session.get(Customer, customer_id)
    assert customer is not None
    await session.flush()
    await stage(
        session,
        SubprocessorObjectionReceived(
            change_id=change.id, objection_id=objection.id, customer_id=customer.reference, raised_at=now
        ),
        tenant_id=change.tenant_id,
        subject=str(change.id),
        clock=clock,
        service=settings.service_name,
    )
    audit_change(session, change, actor, "objection.received", clock, {"objection_id": objection.id, "via": via})
    await session.flush()
    return objection


async def resolve(
    session: AsyncSession,
    change: SubprocessorChange,
    objection_id: uuid.UUID,
    resolution: ObjectionResolution,
    note: str,
    *,
    actor: str,
    clock: Clock,
    settings: SubprocessorSettings,
) -> Objection:
    """Settle an objection; a cancellation cancels the change, otherwise the change waits for the others."""
    now = clock.now()
    objections = await objections_of(session, change.id)
    objection = next((o for o in objections if o.id == objection_id), None)
    if objection is None:
        raise NotFound(f"No objection {objection_id} to change {change.id}.")
    settled = resolve_objection(to_domain(change, [], [objection])[2][0], resolution, at=now, note=note)
    objection.resolution, objection.resolved_at, objection.resolution_note = (
        resolution.value,
        now,
        settled.resolution_note,
    )
    session.add(objection)
    audit_change(
        session, change, actor, "objection.resolved", clock, {"objection_id": objection.id, "resolution": resolution}
    )
    if resolution is ObjectionResolution.CHANGE_CANCELLED:
        await cancel(
            session,
            change,
            f"cancelled on the objection {objection.id}",
            cause="objection",
            actor=actor,
            clock=clock,
            settings=settings,
        )
    elif change.state == ChangeState.HELD and all(o.resolution is not None for o in objections):
        change.state = transition(ChangeState.HELD, ChangeState.OBJECTION_WINDOW_OPEN).value
        session.add(change)
    await session.flush()
    return objection
