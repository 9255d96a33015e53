"""Consent receipts: built from the stored rows and signed on their first read, then kept as signed.

The write of a decision never builds or signs anything (the hot path stays one statement): the
receipt is built and signed with the tenant's document key (``shared.runtime.signing``) the first
time anyone reads it (the API, the person's link, or the notify service claiming the mail), and
the compact JWS is stored, so every later read serves the same bytes, whatever changed since in
the catalogue or the controller profile.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select

from services.consent.domain import ReceiptController, ReceiptFacts, build_iso_receipt
from services.consent.domain.receipts import LANGUAGE
from services.consent.models import ConsentReceipt, ConsentRecord, ControllerProfile, NoticeVersion, Purpose
from services.consent.service import Uow
from services.consent.service.history import get_record
from shared.rules.errors import Conflict, ServiceUnavailable
from shared.runtime.db import new_id
from shared.runtime.repository import find
from shared.runtime.signing import SigningFailed, document_signer

TYP = "consent-receipt+jwt"
REQUIRED_FIELDS = ["name", "contact", "address", "email", "phone", "policy_url"]


def controller_profile_missing() -> Conflict:
    """The 409 of a receipt asked for before the tenant said who its controller is: what to do, exactly."""
    return Conflict(
        "This tenant has no controller profile, and every consent receipt names its controller "
        "(ISO/IEC TS 27560 pii_controllers). Set it once with PUT /v1/controller (scope consent:admin) and a JSON "
        "body with name, contact, address, email, phone and policy_url (url and jurisdiction are optional), "
        "then ask again.",
        title="No controller profile",
        slug="controller-profile-missing",
        required_fields=REQUIRED_FIELDS,
        method="PUT",
        path="/v1/controller",
    )


async def controller_of(uow: Uow) -> ControllerProfile:
    """The tenant's controller profile; the 409 saying how to set it when there is none."""
    profile = await find(uow, ControllerProfile, uow.tenant_id)
    if profile is None:
        raise controller_profile_missing()
    return profile


def claims_of(jws: str) -> dict[str, Any]:
    """The claims a stored JWS carries (it was signed here; readers verify with the published keys)."""
    payload = jws.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def jwks_url(uow: Uow) -> str:
    """Where anyone fetches the keys that verify the tenant's receipts."""
    return document_signer(uow.settings).jwks_url(uow.tenant_id)


async def receipt_of(uow: Uow, consent_id: uuid.UUID) -> ConsentReceipt:
    """The signed receipt of one of the tenant's records (signed now if this is its first read)."""
    return await signed_receipt(uow, await get_record(uow, consent_id))


async def signed_receipt(uow: Uow, record: ConsentRecord) -> ConsentReceipt:
    """The receipt row of ``record`` with its JWS, signing it first when nobody has read it yet.

    A row made when a mail was asked for is locked while it is signed; otherwise the first reader's
    insert wins and a concurrent one reads it back, so every reader gets the same signed bytes.
    """
    row = await _receipt_row(uow, record.id, lock=True)
    if row is not None and row.jws is not None:
        return row
    receipt_id = row.id if row is not None else new_id()
    now = uow.now()
    claims = build_iso_receipt(await facts_for(uow, record, receipt_id, now))
    try:
        jws = await document_signer(uow.settings).sign(uow.tenant_id, TYP, claims)
    except SigningFailed as exc:
        raise ServiceUnavailable("The receipt could not be signed just now; ask again in a moment.") from exc
    if row is not None:
        row.jws, row.signed_at = jws, now
        uow.session.add(row)
    else:
        values = {"id": receipt_id, "tenant_id": uow.tenant_id, "record_id": record.id, "created_at": now}
        statement = insert(ConsentReceipt).values(**values, jws=jws, signed_at=now)
        await uow.session.exec(statement.on_conflict_do_nothing(constraint="uq_consent_receipt_record"))
        row = await _receipt_row(uow, record.id)
        assert row is not None
        assert row.jws is not None
    if row.id == receipt_id:
        uow.audit("receipt.signed", "consent_receipt", row.id, {"record_id": str(record.id), "typ": TYP})
    return row


async def _receipt_row(uow: Uow, record_id: uuid.UUID, *, lock: bool = False) -> ConsentReceipt | None:
    statement = (
        select(ConsentReceipt)
        .where(col(ConsentReceipt.tenant_id) == uow.tenant_id, col(ConsentReceipt.record_id) == record_id)
        .execution_options(populate_existing=True)
    )
    if lock:
        statement = statement.with_for_update()
    return (await uow.session.exec(statement)).first()


async def facts_for(uow: Uow, record: ConsentRecord, receipt_id: uuid.UUID, now: datetime) -> ReceiptFacts:
    """What the receipt of ``record`` states, from the tenant's controller profile, purpose and notice."""
    profile = await controller_of(uow)
    purpose = await find(uow, Purpose, (uow.tenant_id, record.purpose))
    notice = None
    if record.notice_version is not None:
        notice = await find(uow, NoticeVersion, (uow.tenant_id, record.purpose, record.notice_version))
    return facts_from(record, profile, purpose, notice, receipt_id, now)


def facts_from(
    record: ConsentRecord,
    profile: ControllerProfile,
    purpose: Purpose | None,
    notice: NoticeVersion | None,
    receipt_id: uuid.UUID,
    now: datetime,
) -> ReceiptFacts:
    """Assemble a receipt's facts from stored rows (pure)."""
    shown = str(record.proof.get("language") or "")
    language = shown if LANGUAGE.fullmatch(shown) else (notice.language if notice else "en")
    return ReceiptFacts(
        receipt_id=receipt_id,
        record_id=record.id,
        created_at=now,
        subject_ref=record.subject_ref,
        purpose_key=record.purpose,
        purpose_name=purpose.name if purpose else record.purpose,
        lawful_basis=purpose.lawful_basis if purpose else "consent",
        pii_categories=tuple(purpose.data_categories) if purpose else (),
        decision=record.decision,
        occurred_at=record.occurred_at,
        collection_method=record.channel or record.source,
        language=language,
        jurisdiction=profile.jurisdiction,
        controller=ReceiptController(
            name=profile.name,
            contact=profile.contact,
            address=profile.address,
            email=profile.email,
            phone=profile.phone,
            url=profile.url,
        ),
        notice_url=notice.url if notice and notice.url else profile.policy_url,
        notice_version=record.notice_version,
        notice_text_hash=record.notice_text_hash,
        validity=purpose.validity if purpose else None,
        implied=record.source == "gpc",
        evidence={
            "decision": record.decision,
            "source": record.source,
            "collector": record.collector,
            "expires_at": record.expires_at.isoformat() if record.expires_at else None,
            "proof": record.proof,
            "tc_string": record.tc_string,
            "guardian": record.guardian,
        },
    )
