"""This browser's consent history and the signed receipt of each decision (ISO/IEC TS 27560, a JWS).

Only the decisions recorded under this browser's visitor cookie are shown, and a receipt opens only
when its record is one of them: the consent id in the address is never enough.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response

from services.portal.api.center.common import (
    brand_of,
    form_page,
    page,
    problem_page,
    router,
    uuid_or_404,
    visitor_of,
)
from services.portal.api.center.consent import subject_of
from services.portal.api.deps import PortalDep
from services.portal.service import center as backends
from services.portal.service.backends import BackendError

NO_RECEIPT = "This browser has no such decision, so there is no receipt to show."


def jws_claims(jws: str) -> dict[str, Any]:
    """The payload of a compact JWS, to show (its signature is for the person's own verifier, not checked here)."""
    try:
        payload = jws.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return {}
    return claims if isinstance(claims, dict) else {}


def receipt_summary(claims: dict[str, Any]) -> list[tuple[str, str]]:
    """What a person reads first on an ISO/IEC TS 27560 receipt, in words (missing claims are left out)."""

    def first(key: str) -> dict[str, Any]:
        items = claims.get(key)
        return items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}

    last_event = claims.get("events", [{}])[-1] if claims.get("events") else {}
    notice = claims.get("privacy_notice") if isinstance(claims.get("privacy_notice"), dict) else {}
    rows = [
        ("Controller", first("parties").get("party_name")),
        ("Purpose", first("purposes").get("purpose")),
        ("Legal basis", str(first("purposes").get("lawful_basis") or "").replace("_", " ")),
        ("Your choice", last_event.get("event_state") if isinstance(last_event, dict) else None),
        ("When", last_event.get("event_time") if isinstance(last_event, dict) else None),
        ("Notice version", (notice or {}).get("version")),
        ("Receipt", claims.get("receipt_id")),
        ("Signed by", claims.get("iss")),
    ]
    return [(label, str(value)) for label, value in rows if value not in (None, "")]


@router.get("/consent/history", response_class=HTMLResponse)
async def consent_history(tenant: str, request: Request, portal: PortalDep) -> Response:
    """Every decision this browser made, newest first, each with its receipt."""
    browser = visitor_of(request)
    try:
        brand = await brand_of(portal, tenant)
        records = [] if browser[1] else await backends.history(portal.backends, tenant, subject_of(browser[0]))
        names = {p["key"]: p["name"] for p in await portal.backends.purposes(tenant)}
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    return form_page(
        portal, request, tenant, "center/consent_history.html", 200, browser, brand=brand, records=records, names=names
    )


@router.get("/consent/receipts/{consent_id}", response_class=HTMLResponse)
async def consent_receipt(
    tenant: str,
    consent_id: str,
    request: Request,
    portal: PortalDep,
    download: Annotated[bool, Query()] = False,
) -> Response:
    """The signed receipt of one of this browser's decisions: shown, or downloaded as a ``.jwt`` file."""
    visitor, new = visitor_of(request)
    try:
        brand = await brand_of(portal, tenant)
        record_id = uuid_or_404(consent_id, NO_RECEIPT)
        records = [] if new else await backends.history(portal.backends, tenant, subject_of(visitor))
        if not any(r.get("id") == str(record_id) for r in records):
            raise BackendError(404, NO_RECEIPT)
        jws = await backends.receipt(portal.backends, tenant, record_id)
    except BackendError as exc:
        if exc.status == 409:
            exc = BackendError(404, f"{tenant} does not issue signed receipts yet.")
        return problem_page(portal, tenant, exc)
    if download:
        return Response(
            jws,
            media_type="application/jwt",
            headers={
                "Content-Disposition": f'attachment; filename="consent-receipt-{consent_id}.jwt"',
                "Cache-Control": "no-store",
            },
        )
    summary = receipt_summary(jws_claims(jws))
    return page(portal, tenant, "center/receipt.html", brand=brand, consent_id=record_id, jws=jws, summary=summary)
