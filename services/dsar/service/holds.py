"""Legal holds heard of from the retention service, and the ones an erase task carries to its store."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select

from services.dsar.domain.holds import KnownHold, holds_for_task
from services.dsar.models import LegalHold
from services.dsar.service import Uow
from shared.events.catalogue.dsar import TaskHold
from shared.events.catalogue.retention import LegalHoldPlaced, LegalHoldReleased


async def record_placed(uow: Uow, event: LegalHoldPlaced) -> None:
    """Keep a placed hold (again: idempotent); a release heard of first stays a release."""
    values = {
        "subject_ref": event.subject_ref,
        "category": event.category,
        "system": event.system,
        "matter": event.matter,
        "reason": event.reason,
        "placed_at": event.placed_at,
    }
    statement = insert(LegalHold).values(id=event.hold_id, tenant_id=uow.tenant_id, **values)
    await uow.session.exec(
        statement.on_conflict_do_update(
            index_elements=["id"], set_=values, where=col(LegalHold.tenant_id) == statement.excluded.tenant_id
        )
    )


async def record_released(uow: Uow, event: LegalHoldReleased) -> None:
    """Mark a hold released (idempotent); a hold not heard of yet is kept as released, so its placement stays inert."""
    statement = insert(LegalHold).values(id=event.hold_id, tenant_id=uow.tenant_id, released_at=event.released_at)
    await uow.session.exec(
        statement.on_conflict_do_update(
            index_elements=["id"],
            set_={"released_at": event.released_at},
            where=col(LegalHold.tenant_id) == statement.excluded.tenant_id,
        )
    )


async def active_holds(uow: Uow) -> list[KnownHold]:
    """The tenant's holds not released, as pure holds."""
    rows = await uow.session.exec(
        select(LegalHold).where(col(LegalHold.tenant_id) == uow.tenant_id, col(LegalHold.released_at).is_(None))
    )
    return [
        KnownHold(
            id=str(row.id),
            placed_at=row.placed_at,
            subject_ref=row.subject_ref,
            category=row.category,
            system=row.system,
            matter=row.matter,
            reason=row.reason,
            released_at=row.released_at,
        )
        for row in rows.all()
    ]


def task_holds(holds: Sequence[KnownHold], subject_refs: Sequence[str], system: str, now: datetime) -> list[TaskHold]:
    """The holds an erase task of ``system`` carries, as they travel with it."""
    return [
        TaskHold(
            hold_id=uuid.UUID(hold.id),
            reason=hold.reason,
            subject_ref=hold.subject_ref,
            category=hold.category,
            system=hold.system,
            matter=hold.matter,
            placed_at=hold.placed_at or now,  # an active hold was placed
        )
        for hold in holds_for_task(holds, subject_refs, system, now)
    ]
