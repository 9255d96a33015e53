"""Changes taking effect: a periodic job applies a change once every window closed with no objection standing."""

from __future__ import annotations

import uuid

from sqlalchemy import delete
from sqlmodel import col, select

from services.subprocessor.domain import ChangeKind, ChangeState, ObjectionResolution, can_go_effective, transition
from services.subprocessor.models import Customer, CustomerSubprocessor, Objection, Subprocessor, SubprocessorChange
from services.subprocessor.service import Job, Uow
from services.subprocessor.service import notices as notice_service
from services.subprocessor.service.changes import objections_of, to_domain
from services.subprocessor.service.register import record_version
from shared.events.catalogue.subprocessor import SubprocessorChangeEffective
from shared.runtime.jobs import claim
from shared.runtime.repository import get_or_404

WAITING = (ChangeState.NOTICED.value, ChangeState.OBJECTION_WINDOW_OPEN.value, ChangeState.HELD.value)
# Customers who settled their objection this way keep their current arrangement: the change skips them.
OPTED_OUT = (ObjectionResolution.ALTERNATIVE_ARRANGED.value, ObjectionResolution.CONTRACT_TERMINATED.value)
EFFECTIVE_ACTOR = "job:subprocessor.changes"


async def apply_due_changes(ctx: Job) -> int:
    """Periodic job: make due changes effective, claimed with FOR UPDATE SKIP LOCKED."""
    now = ctx.clock.now()
    applied = 0
    async with ctx.database.session() as session:
        statement = (
            select(SubprocessorChange)
            .where(col(SubprocessorChange.state).in_(WAITING), col(SubprocessorChange.effective_at) <= now)
            .order_by(col(SubprocessorChange.effective_at))
        )
        for change in await claim(session, statement, limit=50):
            uow: Uow = ctx.unit_of_work(session, change.tenant_id, EFFECTIVE_ACTOR)
            notices = await notice_service.notices_of(uow, change.id)
            objections = await objections_of(uow, change.id)
            if can_go_effective(*to_domain(change, notices, objections), now):
                await make_effective(uow, change, objections)
                applied += 1
    return applied


async def _subscribe(uow: Uow, customer_ids: list[uuid.UUID], sub_id: uuid.UUID) -> None:
    existing = set(
        (
            await uow.session.exec(
                select(CustomerSubprocessor.customer_id).where(col(CustomerSubprocessor.subprocessor_id) == sub_id)
            )
        ).all()
    )
    for customer_id in customer_ids:
        if customer_id not in existing:
            uow.session.add(
                CustomerSubprocessor(
                    tenant_id=uow.tenant_id, customer_id=customer_id, subprocessor_id=sub_id, since=uow.now()
                )
            )


async def _unsubscribe(uow: Uow, customer_ids: list[uuid.UUID] | None, sub_id: uuid.UUID) -> None:
    statement = delete(CustomerSubprocessor).where(col(CustomerSubprocessor.subprocessor_id) == sub_id)
    if customer_ids is not None:
        statement = statement.where(col(CustomerSubprocessor.customer_id).in_(customer_ids))
    await uow.session.exec(statement)


async def make_effective(uow: Uow, change: SubprocessorChange, objections: list[Objection]) -> None:
    """Apply a change to the register and the customers' subprocessors, and publish that it is effective."""
    session = uow.session
    now = uow.now()
    opted_out = {o.customer_id for o in objections if o.resolution in OPTED_OUT}
    included = [uuid.UUID(c) for c in change.affected_customer_ids if uuid.UUID(c) not in opted_out]
    sub = await get_or_404(uow, Subprocessor, change.subprocessor_id)
    kind = ChangeKind(change.kind)
    touched = [sub]
    if kind is ChangeKind.ADD:
        sub.status = "active"
        await _subscribe(uow, included, sub.id)
    elif kind is ChangeKind.REPLACE:
        old = await get_or_404(uow, Subprocessor, change.replaces_id)
        sub.status = "active"
        await _subscribe(uow, included, sub.id)
        await _unsubscribe(uow, included, old.id)
        await session.flush()
        remaining = (
            await session.exec(select(CustomerSubprocessor).where(col(CustomerSubprocessor.subprocessor_id) == old.id))
        ).first()
        if remaining is None:
            old.status = "retired"
            touched.append(old)
    elif kind is ChangeKind.REMOVE:
        sub.status = "retired"
        await _unsubscribe(uow, None, sub.id)
    else:
        # A new location or purpose applies to the subprocessor; customers who opted out leave it.
        for field, value in change.proposed.items():
            setattr(sub, field, value)
        await _unsubscribe(uow, list(opted_out), sub.id)
    for entry in touched:
        entry.version += 1
        entry.updated_at = now
        session.add(entry)
        record_version(uow, entry, reason=f"change.{kind.value}", change_id=change.id, now=now)
    change.state = transition(ChangeState(change.state), ChangeState.EFFECTIVE).value
    change.closed_at = now
    session.add(change)
    references = (
        await session.exec(
            select(Customer.reference).where(col(Customer.id).in_(included)).order_by(col(Customer.reference))
        )
    ).all()
    await uow.stage(
        SubprocessorChangeEffective(
            change_id=change.id,
            kind=kind.value,
            subprocessor_id=sub.id,
            replaces_subprocessor_id=change.replaces_id,
            effective_at=now,
            customer_ids=list(references),
        ),
        subject=str(change.id),
    )
    uow.audit(
        "change.effective",
        "subprocessor_change",
        change.id,
        {"kind": kind.value, "customers": len(included), "opted_out": len(opted_out)},
    )
    await session.flush()
