"""Legal holds: placed with who and why, released by someone; what they cover is never swept."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from services.retention.domain import LegalHold, release_hold
from services.retention.models import LegalHoldRow, SubjectSchedule
from services.retention.service.common import emit
from shared.events.catalogue.retention import LegalHoldPlaced, LegalHoldReleased
from shared.rules.clock import Clock
from shared.rules.errors import Conflict, NotFound
from shared.runtime import audit
from shared.runtime.auth import Principal


def to_domain(row: LegalHoldRow) -> LegalHold:
    """The pure hold of a stored one."""
    return LegalHold(
        id=str(row.id),
        placed_by=row.placed_by,
        reason=row.reason,
        placed_at=row.placed_at,
        subject_ref=row.subject_ref,
        category=row.category,  # type: ignore[arg-type]  # parsed (and validated) by LegalHold
        system=row.system,
        matter=row.matter,
        released_at=row.released_at,
        released_by=row.released_by,
        release_reason=row.release_reason,
    )


async def place_hold(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    *,
    reason: str,
    subject_ref: str | None = None,
    category: str | None = None,
    system: str | None = None,
    matter: str | None = None,
) -> LegalHoldRow:
    """Place a legal hold; the domain refuses one without a reason or without a scope (nothing stored)."""
    hold_id = uuid.uuid4()
    hold = LegalHold(
        id=str(hold_id),
        placed_by=principal.subject,
        reason=reason,
        placed_at=clock.now(),
        subject_ref=subject_ref,
        category=category,  # type: ignore[arg-type]
        system=system,
        matter=matter,
    )
    row = LegalHoldRow(
        id=hold_id,
        tenant_id=principal.tenant_id,
        subject_ref=hold.subject_ref,
        category=hold.category.value if hold.category else None,
        system=hold.system,
        matter=hold.matter,
        reason=hold.reason.strip(),
        placed_by=hold.placed_by,
        placed_at=hold.placed_at,
    )
    session.add(row)
    await emit(
        session,
        LegalHoldPlaced(
            hold_id=hold_id,
            subject_ref=row.subject_ref,
            category=row.category,
            system=row.system,
            matter=row.matter,
            placed_at=row.placed_at,
        ),
        tenant_id=principal.tenant_id,
        subject=row.subject_ref or str(hold_id),
        clock=clock,
    )
    audit.record(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="hold.placed",
        entity_type="legal_hold",
        entity_id=hold_id,
        clock=clock,
        detail={"reason": row.reason, "category": row.category, "system": row.system, "matter": row.matter},
    )
    await session.flush()
    return row


async def get_hold(session: AsyncSession, tenant_id: str, hold_id: uuid.UUID) -> LegalHoldRow:
    """One hold of the tenant, or NotFound."""
    row = await session.get(LegalHoldRow, hold_id)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound(f"No legal hold {hold_id}.")
    return row


async def release(
    session: AsyncSession, principal: Principal, clock: Clock, hold_id: uuid.UUID, reason: str | None
) -> LegalHoldRow:
    """Release a hold; what it kept becomes due again at the next run (the hold stays as evidence)."""
    row = await get_hold(session, principal.tenant_id, hold_id)
    if row.released_at is not None:
        raise Conflict(f"Legal hold {hold_id} was already released at {row.released_at.isoformat()}.")
    released = release_hold(to_domain(row), by=principal.subject, at=clock.now(), reason=reason)
    row.released_at, row.released_by, row.release_reason = released.released_at, released.released_by, reason
    session.add(row)
    # Held schedules go back to pending; the next run re-checks them against the holds still standing.
    await session.exec(
        update(SubjectSchedule)
        .where(col(SubjectSchedule.tenant_id) == principal.tenant_id, col(SubjectSchedule.status) == "held")
        .values(status="pending")
    )
    assert row.released_at is not None
    await emit(
        session,
        LegalHoldReleased(hold_id=hold_id, released_at=row.released_at),
        tenant_id=principal.tenant_id,
        subject=row.subject_ref or str(hold_id),
        clock=clock,
    )
    audit.record(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="hold.released",
        entity_type="legal_hold",
        entity_id=hold_id,
        clock=clock,
        detail={"reason": reason},
    )
    await session.flush()
    return row


async def list_holds(session: AsyncSession, tenant_id: str, *, active_only: bool = False) -> list[LegalHoldRow]:
    """The tenant's holds, newest first."""
    statement = select(LegalHoldRow).where(col(LegalHoldRow.tenant_id) == tenant_id)
    if active_only:
        statement = statement.where(col(LegalHoldRow.released_at).is_(None))
    return list((await session.exec(statement.order_by(col(LegalHoldRow.placed_at).desc()))).all())


async def active_holds(session: AsyncSession, tenant_id: str, now: datetime) -> list[LegalHold]:
    """The tenant's holds standing at ``now``, as pure holds."""
    holds = [to_domain(row) for row in await list_holds(session, tenant_id, active_only=True)]
    return [hold for hold in holds if hold.is_active(now)]


async def subject_holds(session: AsyncSession, tenant_id: str, subject_ref: str, now: datetime) -> list[LegalHoldRow]:
    """Active holds placed on one subject (an erasure request for them is exempt while they stand)."""
    rows = await session.exec(
        select(LegalHoldRow).where(
            col(LegalHoldRow.tenant_id) == tenant_id,
            col(LegalHoldRow.subject_ref) == subject_ref,
            col(LegalHoldRow.released_at).is_(None),
            col(LegalHoldRow.placed_at) <= now,
        )
    )
    return list(rows.all())
