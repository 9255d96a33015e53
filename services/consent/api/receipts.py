"""Consent receipts: the signed receipt of a record, its mail's claim, the person's link and the tenant's keys.

A receipt is an ISO/IEC TS 27560 document signed as a compact JWS (``typ: consent-receipt+jwt``,
EdDSA) with the tenant's document key, built and signed on its first read and then served as the
same bytes forever. Anyone verifies it with the tenant's public keys alone. In the development mode
(no identity service) this service publishes those keys itself; in production the identity service
does, and the well-known route here redirects there.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.consent.api.deps import ClaimUow, LinkUow, RecordedReadUow
from services.consent.domain import kantara_view
from services.consent.models import ConsentReceipt
from services.consent.schemas.receipts import ReceiptClaimOut, ReceiptOut
from services.consent.service import Uow, receipt_mail, receipts
from shared.rules.errors import NotFound
from shared.runtime.auth import TENANT_PATTERN
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["receipts"], responses=PROBLEM_RESPONSES)
JWT = "application/jwt"
AS_JWT: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {JWT: {"schema": {"type": "string"}}},
        "description": "The receipt (the JWS alone with Accept: application/jwt)",
    }
}
Format = Annotated[
    Literal["iso", "kantara"],
    Query(description="iso (default): the signed ISO/IEC TS 27560 receipt; kantara: its Kantara v1.1 view, unsigned"),
]
Key = Annotated[str | None, Query(max_length=128, description="The key the receipt's link carries")]


def _answer(request: Request, uow: Uow, receipt: ConsentReceipt) -> ReceiptOut | Response:
    assert receipt.jws is not None
    if JWT in request.headers.get("accept", ""):
        return Response(receipt.jws, media_type=JWT)
    return ReceiptOut(receipt=receipts.claims_of(receipt.jws), jws=receipt.jws, jwks_url=receipts.jwks_url(uow))


@router.get(
    "/v1/consents/{consent_id}/receipt",
    response_model=ReceiptOut | dict[str, Any],
    summary="Signed consent receipt (ISO/IEC TS 27560)",
    responses=AS_JWT,
)
async def get_receipt(
    consent_id: uuid.UUID, request: Request, uow: RecordedReadUow, format: Format = "iso"
) -> ReceiptOut | Response | dict[str, Any]:
    """The receipt of one record, signed with the tenant's document key on its first read, the same bytes after.

    It names the controller, the purpose, the data, the notice shown and the decision with its time.
    Verify it with the keys at ``jwks_url`` (no token needed). A tenant without a controller profile
    gets a 409 saying how to set one. ``format=kantara`` gives the same receipt in Kantara v1.1 names.
    """
    receipt = await receipts.receipt_of(uow, consent_id)
    if format == "kantara":
        assert receipt.jws is not None
        return kantara_view(receipts.claims_of(receipt.jws))
    return _answer(request, uow, receipt)


@router.get(
    "/v1/notifications/{notification_id}/claim",
    response_model=ReceiptClaimOut,
    summary="Claim a receipt's mail (notify service)",
)
async def claim_mail(notification_id: uuid.UUID, uow: ClaimUow) -> ReceiptClaimOut:
    """The address, template, language and values of a receipt's mail (scope `notify:claim`); 410 once purged."""
    return await receipt_mail.claim_mail(uow, notification_id)


@router.get(
    "/v1/public/{tenant}/receipts/{receipt_id}",
    response_model=ReceiptOut,
    summary="A person's own receipt, by the link they were sent",
    responses=AS_JWT,
)
async def public_receipt(
    tenant: str, receipt_id: uuid.UUID, request: Request, link: LinkUow, key: Key = None
) -> ReceiptOut | Response:
    """The signed receipt behind the link mailed with it (no token: the key is the credential); 404 otherwise."""
    if not TENANT_PATTERN.match(tenant):
        raise NotFound("No such receipt, or the link is wrong.")
    uow, receipt = await receipt_mail.public_receipt(link, tenant, receipt_id, key)
    return _answer(request, uow, receipt)
