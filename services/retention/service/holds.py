"""Legal holds: placed with who and why, released by someone; what they cover is never swept."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import col, select, update

from services.retention.domain import LegalHold, release_hold
from services.retention.models import LegalHoldRow, SubjectSchedule
from services.retention.service import Uow
from shared.events.catalogue.retention import LegalHoldPlaced, LegalHoldReleased
from shared.rules.errors import Conflict
from shared.runtime.repository import get_or_404


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
    uow: Uow,
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
        placed_by=uow.actor,
        reason=reason,
        placed_at=uow.now(),
        subject_ref=subject_ref,
        category=category,  # type: ignore[arg-type]
        system=system,
        matter=matter,
    )
    row = LegalHoldRow(
        id=hold_id,
        tenant_id=uow.tenant_id,
        subject_ref=hold.subject_ref,
        category=hold.category.value if hold.category else None,
        system=hold.system,
        matter=hold.matter,
        reason=hold.reason.strip(),
        placed_by=hold.placed_by,
        placed_at=hold.placed_at,
    )
    uow.session.add(row)
    await uow.stage(
        LegalHoldPlaced(
            hold_id=hold_id,
            subject_ref=row.subject_ref,
            category=row.category,
            system=row.system,
            matter=row.matter,
            placed_at=row.placed_at,
            reason=row.reason,
        ),
        row.subject_ref or str(hold_id),
    )
    uow.audit(
        "hold.placed",
        "legal_hold",
        hold_id,
        {"reason": row.reason, "category": row.category, "system": row.system, "matter": row.matter},
    )
    await uow.session.flush()
    return row


async def get_hold(uow: Uow, hold_id: uuid.UUID) -> LegalHoldRow:
    """One hold of the tenant: 404 when missing or another tenant's."""
    return await get_or_404(uow, LegalHoldRow, hold_id, label="legal hold")


async def release(uow: Uow, hold_id: uuid.UUID, reason: str | None) -> LegalHoldRow:
    """Release a hold; what it kept becomes due again at the next run (the hold stays as evidence)."""
    row = await get_hold(uow, hold_id)
    if row.released_at is not None:
        raise Conflict(f"Legal hold {hold_id} was already released at {row.released_at.isoformat()}.")
    released = release_hold(to_domain(row), by=uow.actor, at=uow.now(), reason=reason)
    row.released_at, row.released_by, row.release_reason = released.released_at, released.released_by, reason
    uow.session.add(row)
    # Held schedules go back to pending; the next run re-checks them against the holds still standing.
    await uow.session.exec(
        update(SubjectSchedule)
        .where(col(SubjectSchedule.tenant_id) == uow.tenant_id, col(SubjectSchedule.status) == "held")
        .values(status="pending")
    )
    assert row.released_at is not None
    await uow.stage(LegalHoldReleased(hold_id=hold_id, released_at=row.released_at), row.subject_ref or str(hold_id))
    uow.audit("hold.released", "legal_hold", hold_id, {"reason": reason})
    await uow.session.flush()
    return row


async def list_holds(uow: Uow, *, active_only: bool = False) -> list[LegalHoldRow]:
    """The tenant's holds, newest first."""
    statement = select(LegalHoldRow).where(col(LegalHoldRow.tenant_id) == uow.tenant_id)
    if active_only:
        statement = statement.where(col(LegalHoldRow.released_at).is_(None))
    return list((await uow.session.exec(statement.order_by(col(LegalHoldRow.placed_at).desc()))).all())


async def active_holds(uow: Uow, now: datetime) -> list[LegalHold]:
    """The tenant's holds standing at ``now``, as pure holds."""
    holds = [to_domain(row) for row in await list_holds(uow, active_only=True)]
    return [hold for hold in holds if hold.is_active(now)]


async def subject_holds(uow: Uow, subject_ref: str, now: datetime) -> list[LegalHoldRow]:
    """Active holds placed on one subject (an erasure request for them is exempt while they stand)."""
    rows = await uow.session.exec(
        select(LegalHoldRow).where(
            col(LegalHoldRow.tenant_id) == uow.tenant_id,
            col(LegalHoldRow.subject_ref) == subject_ref,
            col(LegalHoldRow.released_at).is_(None),
            col(LegalHoldRow.placed_at) <= now,
        )
    )
    return list(rows.all())
