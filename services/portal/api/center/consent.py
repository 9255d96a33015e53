"""This browser's consent choices: each purpose with its notice, grant or withdraw in one click, GPC.

The form names no person: choices are kept under the visitor cookie (``common.VISITOR_COOKIE``), so
nobody can read or change the decisions of someone else. Withdrawing is one click, as giving is
(GDPR Art. 7(3), https://eur-lex.europa.eu/eli/reg/2016/679/oj).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from services.portal.api.center.common import (
    GpcHeader,
    brand_of,
    form_page,
    from_this_site,
    problem_page,
    refused,
    router,
    visitor_of,
)
from services.portal.api.deps import FormDep, Portal, PortalDep
from services.portal.domain import FormError, consent_choice
from services.portal.service import center as backends
from services.portal.service.backends import BackendError


def proof_of(request: Request, form_id: str = "privacy-center") -> dict[str, str]:
    """How the decision was collected: the form, the address and browser it came from."""
    ip = request.client.host if request.client else ""
    proof = {"form_id": form_id, "ip": ip, "user_agent": request.headers.get("user-agent", "")[:1024]}
    return {k: v for k, v in proof.items() if v}


def gpc_of(sec_gpc: str | None) -> bool:
    """Whether the browser sends the Global Privacy Control signal (``Sec-GPC: 1``)."""
    return sec_gpc is not None and sec_gpc.strip() == "1"


def subject_of(visitor: str) -> dict[str, str]:
    """The consent service's subject of a browser (``IdentifierKind.COOKIE_ID``)."""
    return {"kind": "cookie_id", "value": visitor}


async def _consent_page(
    portal: Portal, request: Request, tenant: str, browser: tuple[str, bool], status: int = 200, **context: Any
) -> Response:
    """The consent page (or, for htmx, its list) with this browser's decisions; sets the cookie of a new visitor."""
    visitor, _ = browser
    try:
        keys = [p["key"] for p in context["purposes"]]
        decisions = await portal.backends.decisions(tenant, subject_of(visitor), keys)
        context.setdefault("banner", await backends.banner(portal.backends, tenant))
        context.setdefault("request_path", request.url.path)
    except BackendError as exc:
        return problem_page(portal, tenant, exc, context.get("brand"))
    htmx = request.headers.get("hx-request") and status == 200
    template = "center/consent_list.html" if htmx else "center/consent.html"
    return form_page(portal, request, tenant, template, status, browser, decisions=decisions, **context)


@router.get("/consent", response_class=HTMLResponse)
async def consent_page(tenant: str, request: Request, portal: PortalDep, sec_gpc: GpcHeader = None) -> Response:
    """The tenant's purposes with their notices, and this browser's decisions with a button to change each.

    The first visit sets the visitor cookie the decisions are kept under; with ``Sec-GPC: 1`` the
    signal is recorded for this browser (opt-outs of the GPC-covered purposes) and the page says so.
    """
    browser = visitor_of(request)
    visitor, _ = browser
    opted_out: list[str] = []
    try:
        brand = await brand_of(portal, tenant)
        purposes = await backends.purposes_with_notices(portal.backends, tenant)
        if gpc_of(sec_gpc):
            opted_out = await portal.backends.honour_gpc(tenant, subject_of(visitor), proof_of(request))
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    context: dict[str, Any] = {"brand": brand, "purposes": purposes, "gpc": gpc_of(sec_gpc), "gpc_opted_out": opted_out}
    return await _consent_page(portal, request, tenant, browser, **context)


@router.post("/consent", response_class=HTMLResponse)
async def consent_change(
    tenant: str, form: FormDep, request: Request, portal: PortalDep, sec_gpc: GpcHeader = None
) -> Response:
    """Record a grant or a withdrawal for this browser, and show its decisions again.

    A form sent from another site is refused (403); a bad choice is a 422 and records nothing.
    """
    browser = visitor_of(request)
    visitor, _ = browser
    gpc, errors, changed, opted_out = gpc_of(sec_gpc), {}, None, []
    try:
        brand = await brand_of(portal, tenant)
        if not from_this_site(request, portal, form):
            return refused(portal, tenant, brand)
        purposes = await backends.purposes_with_notices(portal.backends, tenant)
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    try:
        purpose, decision = consent_choice(form, [p["key"] for p in purposes])
        if gpc:  # the signal first, so the explicit click on a covered purpose is the choice in force
            opted_out = await portal.backends.honour_gpc(tenant, subject_of(visitor), proof_of(request))
        await portal.backends.record_consent(tenant, subject_of(visitor), purpose, decision, proof_of(request))
        changed = {"purpose": purpose, "decision": decision}
    except FormError as exc:
        errors = {"form": " ".join(exc.errors.values())}
    except BackendError as exc:
        if exc.status not in (400, 409, 422):
            return problem_page(portal, tenant, exc, brand)
        errors = {"form": exc.detail}
    context: dict[str, Any] = {
        "brand": brand,
        "purposes": purposes,
        "gpc": gpc,
        "gpc_opted_out": opted_out,
        "changed": changed,
    }
    return await _consent_page(portal, request, tenant, browser, 422 if errors else 200, errors=errors, **context)
