"""The privacy center's home (with the banner of a material change) and rights requests: each right's form,
the code, the status page."""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.portal.api.center.common import (
    brand_of,
    form_page,
    from_this_site,
    one,
    page,
    problem_page,
    refused,
    router,
)
from services.portal.api.deps import FormDep, Portal, PortalDep
from services.portal.domain import JURISDICTIONS, RIGHTS, STATE_LABELS, FormError, request_body, right_of
from services.portal.domain.forms import preferred_locale
from services.portal.service import center as backends
from services.portal.service.backends import BackendError
from services.portal.service.center import Brand

TICKET_DAYS = 400  # a request's page stays reachable well past any legal deadline and its extension


@router.get("", response_class=HTMLResponse)
async def home(tenant: str, portal: PortalDep) -> Response:
    """The tenant's privacy center: the rights, consent and subprocessors."""
    try:
        brand = await brand_of(portal, tenant)
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    banner = await backends.banner(portal.backends, tenant)
    return page(portal, tenant, "center/home.html", brand=brand, rights=RIGHTS, banner=banner)


@router.get("/requests/new", response_class=HTMLResponse)
async def request_form(
    tenant: str, request: Request, portal: PortalDep, type: Annotated[str, Query(max_length=32)] = "access"
) -> Response:
    """The form of one right."""
    try:
        brand = await brand_of(portal, tenant)
        purposes = await _purposes_of(portal, tenant, type)
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    return _request_form(portal, request, tenant, brand, type, purposes, {}, {})


async def _purposes_of(portal: Portal, tenant: str, request_type: str) -> list[dict[str, Any]]:
    """The purposes an objection's form lists (none for the other rights); a 404 for a right not offered."""
    right = right_of(request_type)
    if right is None:
        raise BackendError(404, "The privacy center offers no such request.")
    return await portal.backends.purposes(tenant) if right.needs == "purposes" else []


def _request_form(
    portal: Portal,
    request: Request,
    tenant: str,
    brand: Brand,
    request_type: str,
    purposes: list[dict[str, Any]],
    values: dict[str, list[str]],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    return form_page(
        portal,
        request,
        tenant,
        "center/request_form.html",
        status,
        brand=brand,
        right=right_of(request_type),
        jurisdictions=JURISDICTIONS,
        purposes=purposes,
        values={k: v[0] if len(v) == 1 else v for k, v in values.items() if k != "csrf"},
        chosen=set(values.get("purposes", [])),
        errors=errors,
        idempotency_key=(values.get("idempotency_key") or [secrets.token_urlsafe(16)])[0],
    )


@router.post("/requests", response_class=HTMLResponse)
async def file_request(tenant: str, form: FormDep, request: Request, portal: PortalDep) -> Response:
    """File the request; the person is sent to the page where they enter the emailed code."""
    request_type = one(form, "type", 32)
    try:
        brand = await brand_of(portal, tenant)
        if not from_this_site(request, portal, form):
            return refused(portal, tenant, brand)
        purposes = await _purposes_of(portal, tenant, request_type)
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    try:
        body = request_body(request_type, form, preferred_locale(request.headers.get("accept-language")))
        key = one(form, "idempotency_key", 128) or secrets.token_urlsafe(16)
        filed = await portal.backends.file_request(tenant, body, key)
    except FormError as exc:
        return _request_form(portal, request, tenant, brand, request_type, purposes, form, exc.errors, 422)
    except BackendError as exc:
        if exc.status in (400, 409, 422):
            errors = {"form": exc.detail}
            return _request_form(portal, request, tenant, brand, request_type, purposes, form, errors, 422)
        return problem_page(portal, tenant, exc, brand)
    ticket = portal.sealer.seal("request", {"t": tenant, "id": filed["id"]})
    return RedirectResponse(f"/p/{tenant}/requests/{ticket}", status_code=303)


def _ticket(portal: Portal, tenant: str, ticket: str) -> uuid.UUID:
    value = portal.sealer.open("request", ticket, max_age_s=TICKET_DAYS * 86400)
    if value is None or value.get("t") != tenant:
        raise BackendError(404, "This link does not open a request. Check that you copied all of it.")
    return uuid.UUID(str(value["id"]))


async def _status(
    portal: Portal, request: Request, tenant: str, ticket: str, status: int = 200, error: str | None = None
) -> Response:
    brand = await brand_of(portal, tenant)
    found = await portal.backends.read_request(tenant, _ticket(portal, tenant, ticket))
    return form_page(
        portal,
        request,
        tenant,
        "center/status.html",
        status,
        brand=brand,
        ticket=ticket,
        request=found,
        right=right_of(found["type"]),
        state_label=STATE_LABELS.get(found["state"], found["state"]),
        error=error,
    )


@router.get("/requests/{ticket}", response_class=HTMLResponse)
async def request_status(tenant: str, ticket: str, request: Request, portal: PortalDep) -> Response:
    """Where the request stands and its legal due date; the code form while the email is unconfirmed."""
    try:
        return await _status(portal, request, tenant, ticket)
    except BackendError as exc:
        return problem_page(portal, tenant, exc)


@router.post("/requests/{ticket}/code", response_class=HTMLResponse)
async def confirm_code(tenant: str, ticket: str, form: FormDep, request: Request, portal: PortalDep) -> Response:
    """Confirm the emailed code, then show the request again."""
    code = "".join(one(form, "code", 32).split())[:12]
    try:
        request_id = _ticket(portal, tenant, ticket)
        if not from_this_site(request, portal, form):
            return refused(portal, tenant, await brand_of(portal, tenant))
        if len(code) < 4:
            return await _status(portal, request, tenant, ticket, 422, "Enter the code from the email we sent you.")
        await portal.backends.confirm_code(tenant, request_id, code)
    except BackendError as exc:
        if exc.status in (400, 409, 410, 422, 429):
            try:
                return await _status(portal, request, tenant, ticket, 422, exc.detail)
            except BackendError as again:
                return problem_page(portal, tenant, again)
        return problem_page(portal, tenant, exc)
    return RedirectResponse(f"/p/{tenant}/requests/{ticket}", status_code=303)
