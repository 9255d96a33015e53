"""A subject's history and consent receipts (Kantara Consent Receipt v1.1 / ISO/IEC TS 27560 fields)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import col, select

from services.consent.domain import (
    ConsentType,
    ReceiptController,
    ReceiptPurpose,
    ReceiptService,
    build_receipt,
)
from services.consent.models import ConsentRecord, ControllerProfile, NoticeVersion, Purpose, SubjectStatus
from services.consent.service import Uow
from shared.rules.errors import NotFound
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


async def receipt(uow: Uow, consent_id: uuid.UUID) -> dict[str, Any]:
    """The consent receipt of one record, with the privops proof beside the Kantara fields."""
    record = await get_record(uow, consent_id)
    profile = await find(uow, ControllerProfile, uow.tenant_id)
    if profile is None:
        raise NotFound("No controller profile for this tenant: PUT /v1/controller before asking for receipts.")
    purpose = await find(uow, Purpose, (uow.tenant_id, record.purpose))
    notice = None
    if record.notice_version is not None:
        notice = await find(uow, NoticeVersion, (uow.tenant_id, record.purpose, record.notice_version))
    return build_receipt_for(record, profile, purpose, notice)


def build_receipt_for(
    record: ConsentRecord, profile: ControllerProfile, purpose: Purpose | None, notice: NoticeVersion | None
) -> dict[str, Any]:
    """Assemble a receipt from stored rows (pure)."""
    name = purpose.name if purpose else record.purpose
    termination = (
        f"withdraw at any time; lapses after {purpose.validity}"
        if purpose and purpose.validity
        else "withdraw at any time"
    )
    body = build_receipt(
        receipt_id=record.id,
        consent_timestamp=record.occurred_at,
        jurisdiction=profile.jurisdiction,
        collection_method=record.channel or record.source,
        language=str(record.proof.get("language") or (notice.language if notice else "en")),
        subject_ref=record.subject_ref,
        controllers=[
            ReceiptController(
                name=profile.name,
                contact=profile.contact,
                address=profile.address,
                email=profile.email,
                phone=profile.phone,
                url=profile.url,
            )
        ],
        policy_url=(notice.url if notice and notice.url else profile.policy_url),
        services=[
            ReceiptService(
                service=profile.name,
                purposes=[
                    ReceiptPurpose(
                        purpose=name,
                        purpose_category=[record.purpose],
                        pii_category=(
                            purpose.data_categories if purpose and purpose.data_categories else ["unspecified"]
                        ),
                        termination=termination,
                        consent_type=ConsentType.EXPLICIT if record.source != "gpc" else ConsentType.IMPLICIT,
                    )
                ],
            )
        ],
    )
    body["privops"] = {
        "decision": record.decision,
        "source": record.source,
        "collector": record.collector,
        "notice_version": record.notice_version,
        "notice_text_hash": record.notice_text_hash,
        "expires_at": record.expires_at.isoformat() if record.expires_at else None,
        "proof": record.proof,
        "tc_string": record.tc_string,
        "guardian": record.guardian,
    }
    return body


def record_json(record: ConsentRecord) -> dict[str, Any]:
    """A record as JSON for an access export."""
    return record.model_dump(mode="json")
