"""Objections: a customer objects within its window, the change is held for it, and each objection is resolved."""

from __future__ import annotations

import uuid

from services.subprocessor.domain import (
    ChangeState,
    ObjectionResolution,
    raise_objection,
    resolve_objection,
    transition,
)
from services.subprocessor.models import Customer, Objection, SubprocessorChange
from services.subprocessor.service import Uow
from services.subprocessor.service import notices as notice_service
from services.subprocessor.service.changes import audit_change, cancel, objections_of, to_domain
from shared.events.catalogue.subprocessor import SubprocessorObjectionReceived
from shared.rules.errors import Conflict, NotFound
from shared.runtime.repository import get_or_404


async def object_to_change(
    uow: Uow, change: SubprocessorChange, customer: Customer, reason: str, *, via: str
) -> Objection:
    """Record a customer's objection within its window; the change is held for that customer."""
    now = uow.now()
    notices = await notice_service.notices_of(uow, change.id)
    objections = await objections_of(uow, change.id)
    domain_change, domain_notices, _ = to_domain(change, notices, objections)
    raise_objection(domain_change, domain_notices, customer_id=str(customer.id), raised_at=now, reason=reason)
    if any(o.customer_id == customer.id and o.resolution is None for o in objections):
        raise Conflict("This customer already has an unresolved objection to the change.")
    objection = Objection(
        tenant_id=change.tenant_id,
        change_id=change.id,
        customer_id=customer.id,
        reason=reason,
        raised_at=now,
        raised_via=via,
    )
    uow.session.add(objection)
    if change.state != ChangeState.HELD:
        change.state = transition(ChangeState(change.state), ChangeState.HELD).value
        uow.session.add(change)
    await uow.session.flush()
    await uow.stage(
        SubprocessorObjectionReceived(
            change_id=change.id, objection_id=objection.id, customer_id=customer.reference, raised_at=now
        ),
        subject=str(change.id),
    )
    audit_change(uow, change, "objection.received", {"objection_id": objection.id, "via": via})
    await uow.session.flush()
    return objection


async def record_objection(
    uow: Uow, change_id: uuid.UUID, customer_id: uuid.UUID, reason: str, *, via: str
) -> Objection:
    """An objection to a change of the tenant by one of its customers (404 when either is not the tenant's)."""
    change = await get_or_404(uow, SubprocessorChange, change_id, lock=True)
    customer = await get_or_404(uow, Customer, customer_id)
    return await object_to_change(uow, change, customer, reason, via=via)


async def resolve(
    uow: Uow, change_id: uuid.UUID, objection_id: uuid.UUID, resolution: ObjectionResolution, note: str
) -> Objection:
    """Settle an objection; a cancellation cancels the change, otherwise the change waits for the others."""
    change = await get_or_404(uow, SubprocessorChange, change_id, lock=True)
    now = uow.now()
    objections = await objections_of(uow, change.id)
    objection = next((o for o in objections if o.id == objection_id), None)
    if objection is None:
        raise NotFound(f"No objection {objection_id} to change {change.id}.")
    settled = resolve_objection(to_domain(change, [], [objection])[2][0], resolution, at=now, note=note)
    objection.resolution, objection.resolved_at, objection.resolution_note = (
        resolution.value,
        now,
        settled.resolution_note,
    )
    uow.session.add(objection)
    audit_change(uow, change, "objection.resolved", {"objection_id": objection.id, "resolution": resolution})
    if resolution is ObjectionResolution.CHANGE_CANCELLED:
        await cancel(uow, change, f"cancelled on the objection {objection.id}", cause="objection")
    elif change.state == ChangeState.HELD and all(o.resolution is not None for o in objections):
        change.state = transition(ChangeState.HELD, ChangeState.OBJECTION_WINDOW_OPEN).value
        uow.session.add(change)
    await uow.session.flush()
    return objection
