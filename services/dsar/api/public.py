"""Routes for senders, subjects and auditors: message claims, package downloads, certificate checks."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.dsar.api.deps import NotifyCtx, ReadCtx
from services.dsar.schemas import CertificateOut, VerifyCertificateIn, VerifyCertificateOut
from services.dsar.service import packages
from services.dsar.service.certificates import check_certificate, get_certificate
from services.dsar.service.notifications import claim_notification
from shared.runtime.db import SessionDep
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.service import ClockDep

router = APIRouter(prefix="/v1", tags=["delivery"], responses=PROBLEM_RESPONSES)


@router.get("/notifications/{notification_id}/claim", summary="Claim a message to deliver (sender)")
async def claim_message(notification_id: uuid.UUID, ctx: NotifyCtx) -> dict[str, Any]:
    """The address and rendered message (scope `dsar:notify`); 410 once expired."""
    return await claim_notification(ctx, notification_id)


@router.get(
    "/packages/{package_id}/download",
    summary="Download an access package",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "The ZIP"}},
)
async def download(
    package_id: uuid.UUID,
    token: Annotated[str, Query(min_length=16, max_length=128)],
    request: Request,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    """The ZIP behind the link sent to the subject (the token is the credential); 410 once expired."""
    content = await packages.download(session, request.app.state.settings, clock, package_id, token)
    return Response(
        content,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="personal-data-{package_id}.zip"'},
    )


@router.get("/certificates/{certificate_id}", response_model=CertificateOut, summary="Read a certificate")
async def certificate(certificate_id: uuid.UUID, ctx: ReadCtx) -> CertificateOut:
    """A signed certificate of erasure."""
    cert = await get_certificate(ctx, certificate_id=certificate_id)
    return CertificateOut.of(cert)


@router.post("/certificates/verify", response_model=VerifyCertificateOut, summary="Verify a certificate")
async def verify(body: VerifyCertificateIn, ctx: ReadCtx) -> VerifyCertificateOut:
    """True when the certificate was signed by this service and not changed since."""
    valid = check_certificate(ctx, body.certificate, body.signature)
    return VerifyCertificateOut(
        valid=valid,
        certificate_id=str(body.certificate.get("certificate_id")) if valid else None,
        issued_at=str(body.certificate.get("issued_at")) if valid else None,
    )
