"""The privacy center: what a person of the public can do for themselves, per tenant (``/p/{tenant}/…``).

Every page is a plain form that works without JavaScript; htmx only swaps the part that changed.
The portal files requests and records decisions with its own client, for the page's tenant.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.portal.api.deps import FormDep, Portal, PortalDep
from services.portal.domain import (
    JURISDICTIONS,
    RIGHTS,
    STATE_LABELS,
    FormError,
    consent_choice,
    request_body,
    right_of,
)
from services.portal.domain.forms import preferred_locale
from services.portal.service.backends import BackendError
from shared.runtime.auth import TENANT_PATTERN

router = APIRouter(prefix="/p/{tenant}", tags=["privacy center"], include_in_schema=False)
GpcHeader = Annotated[str | None, Header(alias="Sec-GPC")]
TICKET_DAYS = 400  # a request's page stays reachable well past any legal deadline and its extension


def _page(portal: Portal, tenant: str, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return portal.render(template, status, tenant=tenant, **context)


async def _tenant(portal: Portal, tenant: str) -> str:
    """The tenant's display name; a malformed tenant is a 404 page."""
    if not TENANT_PATTERN.match(tenant):
        raise BackendError(404, "There is no privacy center at this address.")
    return await portal.backends.tenant_name(tenant)


def problem_page(portal: Portal, tenant: str, error: BackendError) -> HTMLResponse:
    """The page shown when a service refused or is down."""
    status = error.status if error.status in (404, 410, 503) else 502
    titles = {404: "Not found", 410: "No longer available", 503: "Temporarily unavailable"}
    return _page(
        portal,
        tenant,
        "center/problem.html",
        status,
        name=tenant,
        title=titles.get(status, "Error"),
        detail=error.detail,
    )


@router.get("", response_class=HTMLResponse)
async def home(tenant: str, portal: PortalDep) -> Response:
    """The tenant's privacy center: the rights, consent and subprocessors."""
    try:
        name = await _tenant(portal, tenant)
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    return _page(portal, tenant, "center/home.html", name=name, rights=RIGHTS)


@router.get("/requests/new", response_class=HTMLResponse)
async def request_form(
    tenant: str, portal: PortalDep, type: Annotated[str, Query(max_length=32)] = "access"
) -> Response:
    """The form of one right."""
    try:
        name = await _tenant(portal, tenant)
        right = right_of(type)
        if right is None:
            raise BackendError(404, "The privacy center offers no such request.")
        purposes = await portal.backends.purposes(tenant) if right.needs == "purposes" else []
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    return _request_form(portal, tenant, name, right.type, purposes, {}, {})


def _request_form(
    portal: Portal,
    tenant: str,
    name: str,
    request_type: str,
    purposes: list[dict[str, Any]],
    values: dict[str, list[str]],
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    return _page(
        portal,
        tenant,
        "center/request_form.html",
        status,
        name=name,
        right=right_of(request_type),
        jurisdictions=JURISDICTIONS,
        purposes=purposes,
        values={k: v[0] if len(v) == 1 else v for k, v in values.items()},
        chosen=set(values.get("purposes", [])),
        errors=errors,
        idempotency_key=(values.get("idempotency_key") or [secrets.token_urlsafe(16)])[0],
    )


@router.post("/requests", response_class=HTMLResponse)
async def file_request(tenant: str, form: FormDep, request: Request, portal: PortalDep) -> Response:
    """File the request; the person is sent to the page where they enter the emailed code."""
    request_type = (form.get("type") or [""])[0]
    try:
        name = await _tenant(portal, tenant)
        right = right_of(request_type)
        if right is None:
            raise BackendError(404, "The privacy center offers no such request.")
        purposes = await portal.backends.purposes(tenant) if right.needs == "purposes" else []
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    try:
        body = request_body(request_type, form, preferred_locale(request.headers.get("accept-language")))
        key = (form.get("idempotency_key") or [""])[0][:128] or secrets.token_urlsafe(16)
        filed = await portal.backends.file_request(tenant, body, key)
    except FormError as exc:
        return _request_form(portal, tenant, name, request_type, purposes, form, exc.errors, 422)
    except BackendError as exc:
        if exc.status in (400, 409, 422):
            errors = {"form": exc.detail}
            return _request_form(portal, tenant, name, request_type, purposes, form, errors, 422)
        return problem_page(portal, tenant, exc)
    ticket = portal.sealer.seal("request", {"t": tenant, "id": filed["id"]})
    return RedirectResponse(f"/p/{tenant}/requests/{ticket}", status_code=303)


def _ticket(portal: Portal, tenant: str, ticket: str) -> uuid.UUID:
    value = portal.sealer.open("request", ticket, max_age_s=TICKET_DAYS * 86400)
    if value is None or value.get("t") != tenant:
        raise BackendError(404, "This link does not open a request. Check that you copied all of it.")
    return uuid.UUID(str(value["id"]))


async def _status(
    portal: Portal, tenant: str, ticket: str, status: int = 200, error: str | None = None
) -> HTMLResponse:
    name = await _tenant(portal, tenant)
    request = await portal.backends.read_request(tenant, _ticket(portal, tenant, ticket))
    return _page(
        portal,
        tenant,
        "center/status.html",
        status,
        name=name,
        ticket=ticket,
        request=request,
        right=right_of(request["type"]),
        state_label=STATE_LABELS.get(request["state"], request["state"]),
        error=error,
    )


@router.get("/requests/{ticket}", response_class=HTMLResponse)
async def request_status(tenant: str, ticket: str, portal: PortalDep) -> Response:
    """Where the request stands and its legal due date; the code form while the email is unconfirmed."""
    try:
        return await _status(portal, tenant, ticket)
    except BackendError as exc:
        return problem_page(portal, tenant, exc)


@router.post("/requests/{ticket}/code", response_class=HTMLResponse)
async def confirm_code(tenant: str, ticket: str, form: FormDep, portal: PortalDep) -> Response:
    """Confirm the emailed code, then show the request again."""
    code = "".join((form.get("code") or [""])[0].split())[:12]
    try:
        request_id = _ticket(portal, tenant, ticket)
        if len(code) < 4:
            return await _status(portal, tenant, ticket, 422, "Enter the code from the email we sent you.")
        await portal.backends.confirm_code(tenant, request_id, code)
    except BackendError as exc:
        if exc.status in (400, 409, 410, 422, 429):
            try:
                return await _status(portal, tenant, ticket, 422, exc.detail)
            except BackendError as again:
                return problem_page(portal, tenant, again)
        return problem_page(portal, tenant, exc)
    return RedirectResponse(f"/p/{tenant}/requests/{ticket}", status_code=303)


def _proof(request: Request) -> dict[str, str]:
    ip = request.client.host if request.client else ""
    proof = {"form_id": "privacy-center", "ip": ip, "user_agent": request.headers.get("user-agent", "")[:1024]}
    return {k: v for k, v in proof.items() if v}


def _gpc(sec_gpc: str | None) -> bool:
    return sec_gpc is not None and sec_gpc.strip() == "1"


@router.get("/consent", response_class=HTMLResponse)
async def consent_page(tenant: str, portal: PortalDep, sec_gpc: GpcHeader = None) -> Response:
    """The tenant's purposes with their notices; the person enters their email to see and change decisions."""
    try:
        name = await _tenant(portal, tenant)
        purposes = await portal.backends.purposes(tenant)
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    return _page(
        portal,
        tenant,
        "center/consent.html",
        name=name,
        purposes=purposes,
        email="",
        decisions=None,
        gpc=_gpc(sec_gpc),
        gpc_opted_out=[],
        errors={},
        changed=None,
    )


@router.post("/consent", response_class=HTMLResponse)
async def consent_change(
    tenant: str, form: FormDep, request: Request, portal: PortalDep, sec_gpc: GpcHeader = None
) -> Response:
    """Show the person's decisions (``decision`` absent), or record a grant or withdrawal and show them again.

    The email travels in the form body, never in a URL. With ``Sec-GPC: 1`` the signal is recorded
    for the person (opt-outs of the GPC-covered purposes) and the page says so.
    """
    email = (form.get("email") or [""])[0].strip()
    gpc, errors, changed, opted_out = _gpc(sec_gpc), {}, None, []
    try:
        name = await _tenant(portal, tenant)
        purposes = await portal.backends.purposes(tenant)
        if form.get("decision"):
            email, purpose, decision = consent_choice(form)
            await portal.backends.record_consent(tenant, email, purpose, decision, _proof(request))
            changed = {"purpose": purpose, "decision": decision}
        else:
            consent_choice({"email": [email], "purpose": ["-"], "decision": ["granted"]})
        if gpc:
            opted_out = await portal.backends.honour_gpc(tenant, email, _proof(request))
        decisions = await portal.backends.decisions(tenant, email, [p["key"] for p in purposes])
    except FormError as exc:
        errors, decisions = exc.errors, None
    except BackendError as exc:
        if exc.status not in (400, 409, 422):
            return problem_page(portal, tenant, exc)
        errors, decisions = {"form": exc.detail}, None
    template = "center/consent_list.html" if request.headers.get("hx-request") and not errors else "center/consent.html"
    return _page(
        portal,
        tenant,
        template,
        422 if errors else 200,
        name=name,
        purposes=purposes,
        email=email,
        decisions=decisions,
        gpc=gpc,
        gpc_opted_out=opted_out,
        errors=errors,
        changed=changed,
    )


@router.get("/subprocessors", response_class=HTMLResponse)
async def subprocessors(tenant: str, portal: PortalDep) -> Response:
    """The published subprocessor list, with locations and transfer mechanisms, and its Atom feed."""
    try:
        name = await _tenant(portal, tenant)
        try:
            published = await portal.backends.subprocessors(tenant)
        except BackendError as exc:
            if exc.status != 404:
                raise
            published = {"subprocessors": [], "updated_at": None}
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    return _page(
        portal,
        tenant,
        "center/subprocessors.html",
        name=name,
        published=published,
        feed=portal.backends.feed_url(tenant),
    )
