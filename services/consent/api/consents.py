"""Endpoints recording decisions: give, refuse, withdraw (one call), GPC signals, and reading records.

Receipts are in ``receipts.py``.

``POST /v1/consents`` is also a hot path (``service/hot``): this route answers what it leaves.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header

from services.consent.api.deps import ReadUow, WriteUow
from services.consent.models import ConsentRecord
from services.consent.schemas.consents import ConsentIn, ConsentOut, GpcIn, GpcOut, WithdrawIn, WithdrawOut
from services.consent.service import consents, contacts, history, receipt_mail, receipts
from services.consent.service.common import resolve_subject
from services.consent.service.recording import Capture
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1", tags=["consents"], responses=PROBLEM_RESPONSES)
GpcHeader = Annotated[str | None, Header(alias="Sec-GPC", description="Global Privacy Control: 1 opts out")]


@router.post("/consents", status_code=201, response_model=ConsentOut, summary="Record a consent decision")
async def record_consent(body: ConsentIn, uow: WriteUow, sec_gpc: GpcHeader = None) -> dict[str, Any]:
    """Append a decision with its proof and publish its event through the outbox, in one transaction.

    With ``Sec-GPC: 1`` the GPC-covered purposes (other than the one decided here) are opted out too. With
    ``receipt_to`` the notify service mails the signed receipt to that address (see ``GET /v1/consents/{id}/receipt``).
    With ``contact_email`` the person is told at that address when a notice they agreed to changes materially.
    """
    if body.receipt_to is not None:
        await receipts.controller_of(uow)  # the 409 saying how to set it, before anything is written
    record = await consents.record_consent(uow, body)
    capture = Capture(body.channel, body.collector, consents.proof_of(uow.settings, body.proof))
    opted_out = await consents.capture_gpc(uow, record.subject_ref, sec_gpc, capture, skip=body.purpose)
    if body.contact_email is not None:
        await contacts.remember(uow, record.subject_ref, body.contact_email, body.proof.language)
    receipt = None
    if body.receipt_to is not None:
        receipt = await receipt_mail.request_receipt(uow, record, body.receipt_to)
    await uow.session.flush()
    return record.model_dump() | {
        "gpc_opt_outs": [r.purpose for r in opted_out],
        "receipt_id": receipt.id if receipt else None,
    }


@router.post("/consents/withdraw", response_model=WithdrawOut, summary="Withdraw consent in one call")
async def withdraw(body: WithdrawIn, uow: WriteUow) -> WithdrawOut:
    """Withdraw the listed purposes, or every purpose currently granted when ``purposes`` is omitted."""
    ref, records = await consents.withdraw(uow, body)
    await uow.session.flush()
    return WithdrawOut(subject_ref=ref, withdrawn=[ConsentOut.model_validate(r) for r in records])


@router.post("/gpc", response_model=GpcOut, summary="Capture a Global Privacy Control signal")
async def capture_gpc(body: GpcIn, uow: WriteUow, sec_gpc: GpcHeader = None) -> GpcOut:
    """``Sec-GPC: 1`` records opt-outs for GPC-covered purposes; without it nothing is recorded (never a consent)."""
    ref = resolve_subject(uow.settings, body, tenant=uow.tenant_id)
    capture = Capture(body.channel, body.collector, consents.proof_of(uow.settings, body.proof))
    records = await consents.capture_gpc(uow, ref, sec_gpc, capture)
    await uow.session.flush()
    return GpcOut(
        subject_ref=ref,
        signal=sec_gpc is not None and sec_gpc.strip() == "1",
        opted_out=[ConsentOut.model_validate(r) for r in records],
    )


@router.get("/consents/{consent_id}", response_model=ConsentOut, summary="Read one consent record")
async def get_consent(consent_id: uuid.UUID, uow: ReadUow) -> ConsentRecord:
    """A consent record of the caller's tenant (another tenant's record is reported as not found)."""
    return await history.get_record(uow, consent_id)
