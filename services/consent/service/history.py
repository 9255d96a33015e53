"""A subject's history and one record as the tenant sees it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import col, select

from services.consent.models import ConsentRecord, SubjectStatus
from services.consent.service import Uow
from shared.runtime.repository import find, get_or_404


async def get_record(uow: Uow, consent_id: uuid.UUID) -> ConsentRecord:
    """A consent record of the tenant (another tenant's record is reported as not found)."""
    return await get_or_404(uow, ConsentRecord, consent_id, label="consent record")


async def subject_history(uow: Uow, ref: str) -> tuple[SubjectStatus | None, list[ConsentRecord]]:
    """Every record of a subject, oldest first, and the subject's rights-request flags; the reading is audited."""
    rows = await uow.session.exec(
        select(ConsentRecord)
        .where(ConsentRecord.tenant_id == uow.tenant_id, ConsentRecord.subject_ref == ref)
        .order_by(col(ConsentRecord.occurred_at), col(ConsentRecord.recorded_at))
    )
    status, records = await find(uow, SubjectStatus, (uow.tenant_id, ref)), list(rows.all())
    uow.audit("subject.history_read", "subject", ref, {"records": len(records)})
    return status, records


def record_json(record: ConsentRecord) -> dict[str, Any]:
    """A record as JSON for an access export."""
    return record.model_dump(mode="json")
