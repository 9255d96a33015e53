"""Certificates of erasure: every system's confirmation, signed, kept after the personal data is gone."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
import structlog
from sqlmodel import col, select

from services.dsar.models import DataSystem, DsarRequest, DsarTask, ErasureCertificate
from services.dsar.service import Job, Uow
from services.dsar.service.crypto import verify_signature
from services.dsar.service.requests import of_request
from services.dsar.settings import DsarSettings
from shared.rules import keys
from shared.runtime.jobs import claim
from shared.runtime.repository import get_or_404
from shared.runtime.signing import SigningFailed, document_signer

log = structlog.get_logger("privops.dsar.certificates")
# The JWS "typ" of a certificate of erasure (RFC 7515 §4.1.9).
TYP = "erasure-certificate+jwt"
BATCH = 100


async def issue_certificate(uow: Uow, request: DsarRequest, tasks: list[DsarTask], outcome: str) -> ErasureCertificate:
    """Sign the erasure's evidence: who confirmed what, when, how many records, any exemption and legal hold.

    Each system's step says whether its store confirmed it or a person did (a manual system's task, or a
    store's task an admin closed), with that person and their evidence: the controller's proof of the
    erasure (GDPR Art. 5(2) and 17(1), https://eur-lex.europa.eu/eli/reg/2016/679/oj).
    """
    names = {
        s.key: s.name
        for s in (await uow.session.exec(select(DataSystem).where(col(DataSystem.tenant_id) == uow.tenant_id))).all()
    }
    now = uow.now()
    certificate_id = uuid.uuid4()
    document: dict[str, Any] = {
        "certificate_id": str(certificate_id),
        "issuer": f"privops-dsar ({uow.settings.public_url})",
        "tenant_id": uow.tenant_id,
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
                "confirmed_by": t.closed_by or f"system:{t.system_key}",
                # The OAuth client whose credentials claimed the task (a store's own client), when one did.
                "store_client": t.claimed_by,
                "confirmation": "person" if t.closed_by else "system",
                "manual": t.manual,
                "evidence": t.evidence,
                "close_reason": t.close_reason,
                "recipients_notified": t.recipients,
                "holds": [_held(hold) for hold in t.holds],
            }
            for t in tasks
        ],
    }
    certificate = ErasureCertificate(
        id=certificate_id,
        tenant_id=uow.tenant_id,
        request_id=request.id,
        document=document,
        signature=None,
        algorithm=keys.ALGORITHM,
        issued_at=now,
    )
    uow.session.add(certificate)
    await sign_certificate(uow.settings, certificate, now)  # else the signing job signs it shortly
    uow.audit("certificate.issued", "dsar_request", request.id, {"certificate_id": certificate_id, "outcome": outcome})
    return certificate


def _held(hold: dict[str, Any]) -> dict[str, Any]:
    """A legal hold the system was told of, as the certificate names it: what it covers and why (Art. 17(3)(e))."""
    scope = {name: hold.get(name) for name in ("subject_ref", "category", "system", "matter")}
    return {
        "hold_id": hold["hold_id"],
        "reason": hold.get("reason"),
        "scope": {name: value for name, value in scope.items() if value is not None},
        "placed_at": hold.get("placed_at"),
    }


async def get_certificate(uow: Uow, certificate_id: uuid.UUID) -> ErasureCertificate:
    """A certificate of the tenant by its id; 404 for a missing one or another tenant's."""
    return await get_or_404(uow, ErasureCertificate, certificate_id, label="certificate of erasure")


async def certificate_of(uow: Uow, request_id: uuid.UUID) -> ErasureCertificate:
    """The certificate of one of the tenant's requests; 404 while it has none."""
    return await of_request(uow, ErasureCertificate, request_id, missing="No certificate of erasure for this id.")


def certificate_claims(certificate: ErasureCertificate) -> dict[str, Any]:
    """What the JWS carries: the document, under ``certificate``, with its id and subject."""
    return {
        "jti": str(certificate.id),
        "sub": f"request:{certificate.request_id}",
        "certificate": certificate.document,
    }


async def sign_certificate(settings: DsarSettings, certificate: ErasureCertificate, now: datetime) -> bool:
    """Have the identity service sign the certificate with the tenant's key; False when it cannot just now."""
    try:
        jws = await document_signer(settings).sign(certificate.tenant_id, TYP, certificate_claims(certificate))
    except SigningFailed as exc:
        log.warning("certificate.signing_deferred", certificate_id=str(certificate.id), error=str(exc)[:300])
        return False
    certificate.signature, certificate.signed_at = jws, now
    return True


async def sign_pending(ctx: Job) -> int:
    """Sign the certificates the identity service could not sign when they were issued (oldest first)."""
    signed = 0
    async with ctx.database.session() as session:
        pending = await claim(
            session,
            select(ErasureCertificate)
            .where(col(ErasureCertificate.signature).is_(None))
            .order_by(col(ErasureCertificate.issued_at)),
            BATCH,
        )
        for certificate in pending:
            if not await sign_certificate(ctx.settings, certificate, ctx.clock.now()):
                break  # the identity service is away: the next run tries again
            session.add(certificate)
            signed += 1
    return signed


async def check_certificate(uow: Uow, document: dict[str, Any], signature: str) -> bool:
    """True when the document is unchanged since it was signed: a JWS of the tenant's key, or a former HMAC."""
    if signature.count(".") == 2:
        try:
            claims = keys.verify(signature, await document_signer(uow.settings).jwks(uow.tenant_id), typ=TYP)
        except (keys.SignatureInvalid, httpx.HTTPError):
            return False
        return bool(claims.get("certificate") == document)
    if not signature.isascii():  # a former signature is hex; compare_digest refuses non-ASCII text
        return False
    return verify_signature(uow.settings, document, signature)
