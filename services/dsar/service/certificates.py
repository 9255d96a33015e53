"""Certificates of erasure: every system's confirmation, signed, kept after the personal data is gone."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import col, select

from services.dsar.crypto import SIGNATURE_ALGORITHM, sign, verify_signature
from services.dsar.models import DataSystem, DsarRequest, DsarTask, ErasureCertificate
from services.dsar.service.context import Ctx
from shared.rules.errors import NotFound


async def issue_certificate(ctx: Ctx, request: DsarRequest, tasks: list[DsarTask], outcome: str) -> ErasureCertificate:
    """Sign the erasure's evidence: who confirmed what, when, how many records, and any exemption."""
    names = {
        s.key: s.name
        for s in (await ctx.session.exec(select(DataSystem).where(col(DataSystem.tenant_id) == ctx.tenant_id))).all()
    }
    now = ctx.now()
    certificate_id = uuid.uuid4()
    document: dict[str, Any] = {
        "certificate_id": str(certificate_id),
        "issuer": f"privops-dsar ({ctx.settings.public_url})",
        "tenant_id": ctx.tenant_id,
        "request_id": str(request.id),
        "request_type": request.request_type,
        "jurisdiction": request.regime_id,
        "subject_ref": request.subject_ref,
        "received_at": request.received_at.isoformat(),
        "verified_at": request.verified_at.isoformat() if request.verified_at else None,
        "verification_method": request.verification_method,
        "completed_at": now.isoformat(),
        "issued_at": now.isoformat(),
        "outcome": outcome,
        "systems": [
            {
                "system": t.system_key,
                "name": names.get(t.system_key, t.system_key),
                "outcome": t.outcome,
                "records_affected": t.records_affected,
                "exemption": t.exemption,
                "detail": t.detail or t.error,
                "confirmed_at": (t.confirmed_at or t.closed_at or now).isoformat(),
                "recipients_notified": t.recipients,
            }
            for t in tasks
        ],
    }
    certificate = ErasureCertificate(
        id=certificate_id,
        tenant_id=ctx.tenant_id,
        request_id=request.id,
        document=document,
        signature=sign(ctx.settings, document),
        algorithm=SIGNATURE_ALGORITHM,
        issued_at=now,
    )
    ctx.session.add(certificate)
    ctx.audit("certificate.issued", "dsar_request", request.id, {"certificate_id": certificate_id, "outcome": outcome})
    return certificate


async def get_certificate(
    ctx: Ctx, *, certificate_id: uuid.UUID | None = None, request_id: uuid.UUID | None = None
) -> ErasureCertificate:
    """A certificate of the tenant, by its id or its request's id."""
    statement = select(ErasureCertificate).where(col(ErasureCertificate.tenant_id) == ctx.tenant_id)
    if certificate_id is not None:
        statement = statement.where(col(ErasureCertificate.id) == certificate_id)
    if request_id is not None:
        statement = statement.where(col(ErasureCertificate.request_id) == request_id)
    certificate = (await ctx.session.exec(statement)).first()
    if certificate is None:
        raise NotFound("No certificate of erasure for this id.")
    return certificate


def check_certificate(ctx: Ctx, document: dict[str, Any], signature: str) -> bool:
    """True when the document is unchanged since this service signed it."""
    if not signature.isascii():  # a signature is hex; compare_digest refuses non-ASCII text
        return False
    return verify_signature(ctx.settings, document, signature)
