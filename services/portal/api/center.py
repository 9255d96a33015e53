"""The privacy center: what a person of the public can do for themselves, per tenant (``/p/{tenant}/…``).

Every page is a plain form that works without JavaScript; htmx only swaps the part that changed.
The portal files requests and records decisions with its own client, for the page's tenant.
"""

from __future__ import annotations

import hmac
import re
import secrets
import uuid
from typing import Annotated, Any
from urllib.parse import urlsplit

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
from services.portal.service.sealing import csrf_token
from shared.runtime.auth import TENANT_PATTERN

router = APIRouter(prefix="/p/{tenant}", tags=["privacy center"], include_in_schema=False)
GpcHeader = Annotated[str | None, Header(alias="Sec-GPC")]
TICKET_DAYS = 400  # a request's page stays reachable well past any legal deadline and its extension
# The privacy center keeps consent choices for the browser, under a random first-party id: the
# consent page never shows or changes the decisions tied to an email, which only a verified rights
# request may do. A tracker that keeps the person's own choice needs no consent (Directive
# 2002/58/EC Art. 5(3), https://eur-lex.europa.eu/eli/dir/2002/58/oj; CNIL guidelines, délibération
# n° 2020-091, art. 5). It lives 13 months and a later visit does not extend it, the lifetime CNIL
# recommends for exempt trackers (délibération n° 2020-092, art. 5,
# https://www.cnil.fr/fr/cookies-et-autres-traceurs/regles/cookies/lignes-directrices-modificatives-et-recommandation).
VISITOR_COOKIE = "privops_visitor"
VISITOR_ID = re.compile(r"[A-Za-z0-9_-]{32}")  # secrets.token_urlsafe(24)
VISITOR_MAX_AGE_S = 395 * 86400  # 13 months


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


def _visitor(request: Request) -> tuple[str, bool]:
    """This browser's visitor id, and whether it is new (its cookie is then set on the answer)."""
    current = request.cookies.get(VISITOR_COOKIE, "")
    if VISITOR_ID.fullmatch(current):
        return current, False
    return secrets.token_urlsafe(24), True


def _subject(visitor: str) -> dict[str, str]:
    """The consent service's subject of a browser (``IdentifierKind.COOKIE_ID``)."""
    return {"kind": "cookie_id", "value": visitor}


def _keep_visitor(response: Response, request: Request, portal: Portal, tenant: str, visitor: str) -> Response:
    """Set the visitor cookie, first-party and for this tenant's pages only; it is never extended by later visits."""
    response.set_cookie(
        VISITOR_COOKIE,
        visitor,
        max_age=VISITOR_MAX_AGE_S,
        path=f"/p/{tenant}",
        httponly=True,
        samesite="lax",
        secure=portal.settings.secure_cookies or request.url.scheme == "https",
    )
    return response


def _source_host(request: Request) -> str | None:
    """The host the form was sent from: its ``Origin``, else its ``Referer`` (None when neither says)."""
    source = request.headers.get("origin") or request.headers.get("referer") or ""
    if source in ("", "null"):
        return None
    parts = urlsplit(source)
    return parts.netloc.lower() if parts.scheme in ("http", "https") else ""


def _from_this_site(request: Request, portal: Portal, form: dict[str, list[str]], visitor: str, new: bool) -> bool:
    """Whether a consent form was sent by a page of this privacy center, in this browser.

    A browser that has the visitor cookie must send the token its pages carry (``csrf``, as the
    console's forms do); one without it (never visited, or cleared) must name this host as its
    ``Origin`` or ``Referer``. A form that names another site is refused either way.
    """
    here = {request.headers.get("host", "").lower(), urlsplit(portal.settings.public_url).netloc.lower()} - {""}
    source = _source_host(request)
    if source is not None and source not in here:
        return False
    if new:
        return source is not None
    return hmac.compare_digest((form.get("csrf") or [""])[0], csrf_token(visitor))


async def _consent_page(
    portal: Portal, request: Request, tenant: str, visitor: str, new: bool, status: int = 200, **context: Any
) -> Response:
    """The consent page (or, for htmx, its list) with this browser's decisions; sets the cookie of a new visitor."""
    try:
        decisions = await portal.backends.decisions(tenant, _subject(visitor), [p["key"] for p in context["purposes"]])
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    template = (
        "center/consent_list.html" if request.headers.get("hx-request") and status == 200 else "center/consent.html"
    )
    response = _page(portal, tenant, template, status, decisions=decisions, csrf=csrf_token(visitor), **context)
    return _keep_visitor(response, request, portal, tenant, visitor) if new else response


@router.get("/consent", response_class=HTMLResponse)
async def consent_page(tenant: str, request: Request, portal: PortalDep, sec_gpc: GpcHeader = None) -> Response:
    """The tenant's purposes with their notices, and this browser's decisions with a button to change each.

    The first visit sets the visitor cookie the decisions are kept under; with ``Sec-GPC: 1`` the
    signal is recorded for this browser (opt-outs of the GPC-covered purposes) and the page says so.
    """
    visitor, new = _visitor(request)
    opted_out: list[str] = []
    try:
        name = await _tenant(portal, tenant)
        purposes = await portal.backends.purposes(tenant)
        if _gpc(sec_gpc):
            opted_out = await portal.backends.honour_gpc(tenant, _subject(visitor), _proof(request))
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    context: dict[str, Any] = {"name": name, "purposes": purposes, "gpc": _gpc(sec_gpc), "gpc_opted_out": opted_out}
    return await _consent_page(portal, request, tenant, visitor, new, **context)


@router.post("/consent", response_class=HTMLResponse)
async def consent_change(
    tenant: str, form: FormDep, request: Request, portal: PortalDep, sec_gpc: GpcHeader = None
) -> Response:
    """Record a grant or a withdrawal for this browser, and show its decisions again.

    The form names no person: the choice is kept under the visitor cookie (set now if the browser
    has none), so nobody can read or change the decisions of someone else. A form sent from
    another site is refused (403); a bad choice is a 422 and records nothing.
    """
    visitor, new = _visitor(request)
    gpc, errors, changed, opted_out = _gpc(sec_gpc), {}, None, []
    try:
        name = await _tenant(portal, tenant)
        if not _from_this_site(request, portal, form, visitor, new):
            detail = "This form was sent from another site or has expired. Open the consent page again."
            return _page(portal, tenant, "center/problem.html", 403, name=name, title="Not allowed", detail=detail)
        purposes = await portal.backends.purposes(tenant)
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    try:
        purpose, decision = consent_choice(form, [p["key"] for p in purposes])
        if gpc:  # the signal first, so the explicit click on a covered purpose is the choice in force
            opted_out = await portal.backends.honour_gpc(tenant, _subject(visitor), _proof(request))
        await portal.backends.record_consent(tenant, _subject(visitor), purpose, decision, _proof(request))
        changed = {"purpose": purpose, "decision": decision}
    except FormError as exc:
        errors = {"form": " ".join(exc.errors.values())}
    except BackendError as exc:
        if exc.status not in (400, 409, 422):
            return problem_page(portal, tenant, exc)
        errors = {"form": exc.detail}
    context: dict[str, Any] = {
        "name": name,
        "purposes": purposes,
        "gpc": gpc,
        "gpc_opted_out": opted_out,
        "changed": changed,
    }
    return await _consent_page(portal, request, tenant, visitor, new, 422 if errors else 200, errors=errors, **context)


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
