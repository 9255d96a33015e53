"""Changes taking effect: a periodic job applies a change once every window closed with no objection standing."""

from __future__ import annotations

import uuid

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.subprocessor.domain import ChangeKind, ChangeState, ObjectionResolution, can_go_effective, transition
from services.subprocessor.models import Customer, CustomerSubprocessor, Objection, Subprocessor, SubprocessorChange
from services.subprocessor.service import notices as notice_service
from services.subprocessor.service.changes import objections_of, to_domain
from services.subprocessor.service.register import record_version
from services.subprocessor.settings import SubprocessorSettings
from shared.bus.outbox import stage
from shared.events.catalogue.subprocessor import SubprocessorChangeEffective
from shared.rules.clock import Clock
from shared.runtime import audit
from shared.runtime.jobs import JobContext, claim

WAITING = (ChangeState.NOTICED.value, ChangeState.OBJECTION_WINDOW_OPEN.value, ChangeState.HELD.value)
# Customers who settled their objection this way keep their current arrangement: the change skips them.
OPTED_OUT = (ObjectionResolution.ALTERNATIVE_ARRANGED.value, ObjectionResolution.CONTRACT_TERMINATED.value)


async def apply_due_changes(ctx: JobContext) -> int:
    """Periodic job: make due changes effective, claimed with FOR UPDATE SKIP LOCKED."""
    settings = ctx.settings
    assert isinstance(settings, SubprocessorSettings)
    now = ctx.clock.now()
    applied = 0
    async with ctx.database.session() as session:
        statement = (
            select(SubprocessorChange)
            .where(col(SubprocessorChange.state).in_(WAITING), col(SubprocessorChange.effective_at) <= now)
            .order_by(col(SubprocessorChange.effective_at))
        )
        for change in await claim(session, statement, limit=50):
            notices = await notice_service.notices_of(session, change.id)
            objections = await objections_of(session, change.id)
            if can_go_effective(*to_domain(change, notices, objections), now):
                await make_effective(session, change, objections, ctx.clock, settings)
                applied += 1
    return applied


async def _subscribe(
    session: AsyncSession, tenant_id: str, customer_ids: list[uuid.UUID], sub_id: uuid.UUID, clock: Clock
) -> None:
    existing = set(
        (
            await session.exec(
                select(CustomerSubprocessor.customer_id).where(col(CustomerSubprocessor.subprocessor_id) == sub_id)
            )
        ).all()
    )
    for customer_id in customer_ids:
        if customer_id not in existing:
            session.add(
                CustomerSubprocessor(
                    tenant_id=tenant_id, customer_id=customer_id, subprocessor_id=sub_id, since=clock.now()
                )
            )


async def _unsubscribe(session: AsyncSession, customer_ids: list[uuid.UUID] | None, sub_id: uuid.UUID) -> None:
    statement = delete(CustomerSubprocessor).where(col(CustomerSubprocessor.subprocessor_id) == sub_id)
    if customer_ids is not None:
        statement = statement.where(col(CustomerSubprocessor.customer_id).in_(customer_ids))
    await session.exec(statement)


async def make_effective(
    session: AsyncSession,
    change: SubprocessorChange,
    objections: list[Objection],
    clock: Clock,
    settings: SubprocessorSettings,
) -> None:
    """Apply a change to the register and the customers' subprocessors, and publish that it is effective."""
    now = clock.now()
    opted_out = {o.customer_id for o in objections if o.resolution in OPTED_OUT}
    included = [uuid.UUID(c) for c in change.affected_customer_ids if uuid.UUID(c) not in opted_out]
    sub = await session.get(Subprocessor, change.subprocessor_id)
    assert sub is not None
    kind = ChangeKind(change.kind)
    touched = [sub]
    if kind is ChangeKind.ADD:
        sub.status = "active"
        await _subscribe(session, change.tenant_id, included, sub.id, clock)
    elif kind is ChangeKind.REPLACE:
        old = await session.get(Subprocessor, change.replaces_id)
        assert old is not None
        sub.status = "active"
        await _subscribe(session, change.tenant_id, included, sub.id, clock)
        await _unsubscribe(session, included, old.id)
        await session.flush()
        remaining = (
            await session.exec(select(CustomerSubprocessor).where(col(CustomerSubprocessor.subprocessor_id) == old.id))
        ).first()
        if remaining is None:
            old.status = "retired"
            touched.append(old)
    elif kind is ChangeKind.REMOVE:
        sub.status = "retired"
        await _unsubscribe(session, None, sub.id)
    else:
        # A new location or purpose applies to the subprocessor; customers who opted out leave it.
        for field, value in change.proposed.items():
            setattr(sub, field, value)
        await _unsubscribe(session, list(opted_out), sub.id)
    for entry in touched:
        entry.version += 1
        entry.updated_at = now
        session.add(entry)
        record_version(
            session,
            entry,
            reason=f"change.{kind.value}",
            actor="job:subprocessor.changes",
            now=now,
            change_id=change.id,
        )
    change.state = transition(ChangeState(change.state), ChangeState.EFFECTIVE).value
    change.closed_at = now
    session.add(change)
    references = (
        await session.exec(
            select(Customer.reference).where(col(Customer.id).in_(included)).order_by(col(Customer.reference))
        )
    ).all()
    await stage(
        session,
        SubprocessorChangeEffective(
            change_id=change.id,
            kind=kind.value,
            subprocessor_id=sub.id,
            replaces_subprocessor_id=change.replaces_id,
            effective_at=now,
            customer_ids=list(references),
        ),
        tenant_id=change.tenant_id,
        subject=str(change.id),
        clock=clock,
        service=settings.service_name,
    )
    audit.record(
        session,
        tenant_id=change.tenant_id,
        actor="job:subprocessor.changes",
        action="change.effective",
        entity_type="subprocessor_change",
        entity_id=change.id,
        clock=clock,
        detail={"kind": kind.value, "customers": len(included), "opted_out": len(opted_out)},
    )
    await session.flush()
