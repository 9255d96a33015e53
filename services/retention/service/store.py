"""The retention service as a data store: it answers DSAR tasks for the schedules and holds it keeps."""

from __future__ import annotations

from typing import Any

from services.retention import models as tenant_tables
from services.retention.service import Uow
from services.retention.service.holds import subject_holds
from services.retention.service.schedules import cancel_for_subject, subject_records
from shared.bus.store import StoreResult, TaskInput
from shared.bus.tenant_store import TenantData

SYSTEM = "privops-retention"
HOLD_EXEMPTION = "Art. 17(3)(e) GDPR: legal hold"


class RetentionStore:
    """What retention does with one subject's data when a rights request reaches it."""

    # At a contract's end (Art. 28(3)(g) GDPR): Schedules and policies go; holds and sweep records stay as evidence.
    tenant_data = TenantData(
        deleted=(
            tenant_tables.SubjectSchedule,
            tenant_tables.SystemCategory,
            tenant_tables.DataSystem,
            tenant_tables.PolicyVersion,
        ),
        kept=(
            (
                tenant_tables.LegalHoldRow,
                "legal holds",
                "GDPR Art. 17(3)(e): data needed for legal claims; the holds are the record of why data was kept",
            ),
            (
                tenant_tables.SweepRun,
                "retention sweep records",
                "GDPR Art. 5(2) and 28(3)(h): evidence of the deletions carried out (no personal data)",
            ),
        ),
    )

    async def erase(self, uow: Uow, task: TaskInput) -> StoreResult:
        """Cancel the pending schedules of every identifier of the subject, unless a legal hold keeps them."""
        now = uow.now()
        holds = [hold for ref in task.refs for hold in await subject_holds(uow, ref, now)]
        if holds:
            # Hold ids only: a hold's free-text reason may name people, and it must not travel on the bus.
            ids = ", ".join(str(hold.id) for hold in holds)
            return StoreResult("exempt", exemption=f"{HOLD_EXEMPTION} ({ids})"[:1000])
        cancelled = sum([await cancel_for_subject(uow, ref, now) for ref in task.refs])
        return StoreResult("done" if cancelled else "no_data", records_affected=cancelled)

    async def export(self, uow: Uow, task: TaskInput) -> list[dict[str, Any]]:
        """The subject's schedules and the holds placed on them."""
        return [record for ref in task.refs for record in await subject_records(uow, ref)]

    async def restrict(self, uow: Uow, task: TaskInput, lift: bool) -> StoreResult:
        """Retention keeps no data it processes for a purpose: nothing to restrict."""
        return StoreResult("no_data", detail="retention keeps schedules only; nothing to restrict")

    async def object(self, uow: Uow, task: TaskInput) -> StoreResult:
        """Retention does no processing a subject can object to."""
        return StoreResult("no_data", detail="retention keeps schedules only; nothing to object to")

    async def rectify(self, uow: Uow, task: TaskInput) -> StoreResult:
        """Retention keeps references and dates only, nothing a subject can correct."""
        return StoreResult("no_data", detail="retention keeps references and dates only")
