"""The consent service as a data store: it answers DSAR tasks for the consent data it holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.consent.domain import LawfulBasis
from services.consent.models import ConsentRecord, ConsentState, ControllerProfile, Purpose, SubjectStatus
from services.consent.service.consents import withdraw_purposes
from services.consent.service.history import build_receipt_for, record_json
from services.consent.service.recording import Capture
from shared.bus.store import StoreResult, TaskInput
from shared.rules.clock import Clock
from shared.runtime import audit
from shared.runtime.settings import ServiceSettings

SYSTEM = "privops-consent"
ACTOR = "dsar-task"


class ConsentStore:
    """Erase, export, restrict and object for one subject, in the handler's transaction."""

    def __init__(self, settings: ServiceSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    async def erase(self, session: AsyncSession, task: TaskInput) -> StoreResult:
        """Delete the subject's records and projection; keep a hashed suppression entry and the count as proof."""
        where = (col(ConsentRecord.tenant_id) == task.tenant_id, col(ConsentRecord.subject_ref) == task.subject_ref)
        count = int(await session.scalar(select(func.count()).select_from(ConsentRecord).where(*where)) or 0)
        await session.exec(delete(ConsentRecord).where(*where))
        await session.exec(
            delete(ConsentState).where(
                col(ConsentState.tenant_id) == task.tenant_id, col(ConsentState.subject_ref) == task.subject_ref
            )
        )
        now = self.clock.now()
        # The suppression entry: only the keyed hash, so an erased person is not re-added to marketing.
        await self._flags(session, task, erased_at=now, erased_records=count, restricted=False, objected=False)
        audit.record(
            session,
            tenant_id=task.tenant_id,
            actor=ACTOR,
            action="subject.erased",
            entity_type="subject",
            entity_id=task.subject_ref,
            clock=self.clock,
            detail={"records_deleted": count},
        )
        return StoreResult("done" if count else "no_data", records_affected=count)

    async def export(self, session: AsyncSession, task: TaskInput) -> list[dict[str, Any]]:
        """Every record of the subject with its receipt (when the controller profile exists)."""
        rows = (
            await session.exec(
                select(ConsentRecord)
                .where(ConsentRecord.tenant_id == task.tenant_id, ConsentRecord.subject_ref == task.subject_ref)
                .order_by(col(ConsentRecord.occurred_at))
            )
        ).all()
        profile = await session.get(ControllerProfile, task.tenant_id)
        purposes = {
            p.key: p for p in (await session.exec(select(Purpose).where(Purpose.tenant_id == task.tenant_id))).all()
        }
        exported = []
        for row in rows:
            item = {"type": "consent_record", "record": record_json(row)}
            if profile is not None:
                item["receipt"] = build_receipt_for(row, profile, purposes.get(row.purpose), None)
            exported.append(item)
        audit.record(
            session,
            tenant_id=task.tenant_id,
            actor=ACTOR,
            action="subject.exported",
            entity_type="subject",
            entity_id=task.subject_ref,
            clock=self.clock,
            detail={"records": len(exported)},
        )
        return exported

    async def restrict(self, session: AsyncSession, task: TaskInput, lift: bool) -> StoreResult:
        """Make every check answer "restricted" (or stop doing so)."""
        await self._flags(session, task, restricted=not lift)
        audit.record(
            session,
            tenant_id=task.tenant_id,
            actor=ACTOR,
            action="subject.restriction_lifted" if lift else "subject.restricted",
            entity_type="subject",
            entity_id=task.subject_ref,
            clock=self.clock,
        )
        return StoreResult("done", records_affected=1)

    async def object(self, session: AsyncSession, task: TaskInput) -> StoreResult:
        """Withdraw every legitimate-interest purpose and every direct-marketing purpose; flag the objection."""
        purposes = (await session.exec(select(Purpose).where(Purpose.tenant_id == task.tenant_id))).all()
        keys = sorted(
            p.key for p in purposes if p.direct_marketing or p.lawful_basis == LawfulBasis.LEGITIMATE_INTEREST.value
        )
        records = await withdraw_purposes(
            session,
            task.tenant_id,
            ACTOR,
            task.subject_ref,
            keys,
            Capture(channel="dsar", source="objection"),
            self.settings,
            self.clock,
        )
        await self._flags(session, task, objected=True)
        return StoreResult("done", records_affected=len(records))

    async def rectify(self, session: AsyncSession, task: TaskInput) -> StoreResult:
        """Consent records are proof of what happened; they are not rewritten."""
        return StoreResult("exempt", exemption="consent records are evidence of past decisions (GDPR Art. 7(1))")

    async def _flags(self, session: AsyncSession, task: TaskInput, **values: Any) -> None:
        now: datetime = self.clock.now()
        initial = {"restricted": False, "objected": False, "erased_at": None, "erased_records": 0} | values
        statement = insert(SubjectStatus).values(
            tenant_id=task.tenant_id, subject_ref=task.subject_ref, updated_at=now, **initial
        )
        await session.exec(
            statement.on_conflict_do_update(
                index_elements=["tenant_id", "subject_ref"], set_={**values, "updated_at": now}
            )
        )
