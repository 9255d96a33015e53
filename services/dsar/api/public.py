"""Routes for the notify service, subjects and auditors: message claims, package downloads, certificate checks."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.dsar.api.deps import ClaimUow, LinkUow, ReadUow
from services.dsar.schemas import (
    CertificateOut,
    NotificationClaimOut,
    PackageOut,
    VerifyCertificateIn,
    VerifyCertificateOut,
)
from services.dsar.service import packages
from services.dsar.service.certificates import check_certificate, get_certificate
from services.dsar.service.notifications import claim_notification
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.signing import document_signer

router = APIRouter(prefix="/v1", tags=["delivery"], responses=PROBLEM_RESPONSES)


@router.get(
    "/notifications/{notification_id}/claim",
    response_model=NotificationClaimOut,
    summary="Claim a message to deliver (notify service)",
)
async def claim_message(notification_id: uuid.UUID, uow: ClaimUow) -> NotificationClaimOut:
    """The address, template, language and template values of a message (scope `notify:claim`); 410 once expired."""
    return await claim_notification(uow, notification_id)


@router.get("/packages/{package_id}", response_model=PackageOut, summary="What a download link leads to")
async def describe_package(
    package_id: uuid.UUID,
    token: Annotated[str, Query(min_length=16, max_length=128)],
    link: LinkUow,
) -> PackageOut:
    """The package behind the link sent to the subject, before they download it (the token is the credential).

    404 for a wrong link, 410 once it has expired: the privacy center says so instead of offering a
    download that would fail. Never the data itself, and not counted as a download.
    """
    package, request_type = await packages.describe(link, package_id, token)
    return PackageOut(
        id=package.id,
        request_type=request_type,
        size_bytes=package.size_bytes,
        created_at=package.created_at,
        expires_at=package.expires_at,
        downloaded_at=package.downloaded_at,
    )


@router.get(
    "/packages/{package_id}/download",
    summary="Download an access package",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "The ZIP"}},
)
async def download(
    package_id: uuid.UUID,
    token: Annotated[str, Query(min_length=16, max_length=128)],
    link: LinkUow,
) -> Response:
    """The ZIP behind the link sent to the subject (the token is the credential); 410 once expired."""
    content = await packages.download(link, package_id, token)
    return Response(
        content,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="personal-data-{package_id}.zip"'},
    )


@router.get("/certificates/{certificate_id}", response_model=CertificateOut, summary="Read a certificate")
async def certificate(certificate_id: uuid.UUID, uow: ReadUow) -> CertificateOut:
    """A signed certificate of erasure."""
    cert = await get_certificate(uow, certificate_id)
    return CertificateOut.of(cert, document_signer(uow.settings).jwks_url(uow.tenant_id))


@router.post("/certificates/verify", response_model=VerifyCertificateOut, summary="Verify a certificate")
async def verify(body: VerifyCertificateIn, uow: ReadUow) -> VerifyCertificateOut:
    """True when the certificate was signed by this service and not changed since."""
    valid = await check_certificate(uow, body.certificate, body.signature)
    return VerifyCertificateOut(
        valid=valid,
        certificate_id=str(body.certificate.get("certificate_id")) if valid else None,
        issued_at=str(body.certificate.get("issued_at")) if valid else None,
    )
