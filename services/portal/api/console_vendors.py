"""The console's subprocessors: the register, proposing a change, and each change's notices, windows and objections.

A processor engages another processor only after telling the controller of any intended change, giving
it the opportunity to object (GDPR Art. 28(2), https://eur-lex.europa.eu/eli/reg/2016/679/oj): each
affected customer gets a notice, its objection window runs from delivery, and each objection is settled
once. Acting takes ``subprocessor:write``.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.portal.api.console_kit import (
    Body,
    Form,
    Invalid,
    failed,
    notice_of,
    one,
    page,
    perform,
    post_form,
    required,
    to_login,
)
from services.portal.api.deps import FormDep, Portal, PortalDep, Session, session_of
from services.portal.service.backends import BackendError

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
KINDS = {
    "add": "Add a subprocessor",
    "replace": "Replace a subprocessor",
    "remove": "Remove a subprocessor",
    "location_change": "Change where it processes data",
    "purpose_change": "Change what it does",
}
RESOLUTIONS = {
    "withdrawn": "The customer withdrew the objection",
    "change_cancelled": "The change was cancelled",
    "alternative_arranged": "An alternative was arranged for this customer",
    "contract_terminated": "The contract was terminated",
}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _get(portal: Portal, session: Session, path: str, **kw: Any) -> Any:
    return portal.backends.as_person(session.token, "GET", path, service="subprocessor", **kw)


async def _register_page(
    request: Request, portal: Portal, session: Session, status: int = 200, error: str = "", form: Form | None = None
) -> Response:
    try:
        register, changes = await asyncio.gather(
            _get(portal, session, "/v1/subprocessors"), _get(portal, session, "/v1/changes", params={"limit": 200})
        )
    except BackendError as exc:
        return failed(portal, session, request, exc)
    names = {s["id"]: s["name"] for s in register}
    return page(
        portal,
        session,
        "console/subprocessors.html",
        status,
        register=register,
        changes=changes,
        names=names,
        kinds=KINDS,
        values={k: v[0] for k, v in (form or {}).items() if v},
        error=error or None,
        notice=None if error else notice_of(request),
    )


@router.get("/subprocessors", response_class=HTMLResponse)
async def register(request: Request, portal: PortalDep) -> Response:
    """The register, the changes proposed with their state, and the form to propose one."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    return await _register_page(request, portal, session)


def _change_body(form: Form) -> dict[str, Any]:
    kind = one(form, "kind", 32)
    if kind not in KINDS:
        raise Invalid("Choose the kind of change.")
    try:
        subprocessor = str(uuid.UUID(required(form, "subprocessor_id", "the subprocessor", 64)))
        replaces = one(form, "replaces_id", 64)
        replaces = str(uuid.UUID(replaces)) if replaces else ""
    except ValueError:
        raise Invalid("Choose a subprocessor of the register.") from None
    effective = required(form, "effective_at", "the date it takes effect", 10)
    if not DATE.match(effective):
        raise Invalid("Give the date it takes effect as YYYY-MM-DD.")
    at = datetime.combine(datetime.fromisoformat(effective).date(), time(0, 0), UTC)
    body: dict[str, Any] = {
        "kind": kind,
        "subprocessor_id": subprocessor,
        "effective_at": at.isoformat(),
        "summary": required(form, "summary", "what changes and why"),
    }
    if kind == "replace":
        if not replaces:
            raise Invalid("Choose the subprocessor replaced.")
        body["replaces_id"] = replaces
    return body


@router.post("/subprocessors/changes", response_class=HTMLResponse)
async def propose(request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Propose a change; every affected customer gets a notice with its objection window."""

    async def send(session: Session) -> str:
        created = await portal.backends.as_person(
            session.token, "POST", "/v1/changes", service="subprocessor", json=_change_body(form)
        )
        return f"/console/subprocessors/changes/{created['id']}"

    async def show(session: Session, status: int, error: str) -> Response:
        return await _register_page(request, portal, session, status, error, form)

    return await perform(request, portal, form, "subprocessor:write", send, "/console/subprocessors", "proposed", show)


async def _change_page(
    request: Request, portal: Portal, session: Session, change_id: uuid.UUID, status: int = 200, error: str = ""
) -> Response:
    try:
        change = await _get(portal, session, f"/v1/changes/{change_id}")
        customer_ids = list(
            dict.fromkeys([*change["affected_customer_ids"], *(n["customer_id"] for n in change["notices"])])
        )
        customers, register = await asyncio.gather(
            asyncio.gather(*(_get(portal, session, f"/v1/customers/{c}") for c in customer_ids)),
            _get(portal, session, "/v1/subprocessors"),
        )
    except BackendError as exc:
        return failed(portal, session, request, exc)
    return page(
        portal,
        session,
        "console/subprocessor_change.html",
        status,
        change=change,
        customers={c["id"]: c["name"] for c in customers},
        names={s["id"]: s["name"] for s in register},
        resolutions=RESOLUTIONS,
        error=error or None,
        notice=None if error else notice_of(request),
    )


@router.get("/subprocessors/changes/{change_id}", response_class=HTMLResponse)
async def change_page(change_id: uuid.UUID, request: Request, portal: PortalDep) -> Response:
    """A change: the notice per customer with its window, the objections and how each was settled."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    return await _change_page(request, portal, session, change_id)


async def _on_change(
    request: Request, portal: Portal, form: Form, change_id: uuid.UUID, path: str, body: Body, done: str
) -> Response:
    async def show(session: Session, status: int, error: str) -> Response:
        return await _change_page(request, portal, session, change_id, status, error)

    back = f"/console/subprocessors/changes/{change_id}"
    target = ("subprocessor", path)
    return await post_form(request, portal, form, "subprocessor:write", target, body, back, done, show)


@router.post("/subprocessors/changes/{change_id}/objections", response_class=HTMLResponse)
async def record_objection(change_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Record an objection a customer sent by other means (mail, phone), within its window."""

    def body(form: Form) -> dict[str, Any]:
        return {
            "customer_id": required(form, "customer_id", "the customer", 64),
            "reason": required(form, "reason", "the customer's reasons"),
        }

    path = f"/v1/changes/{change_id}/objections"
    return await _on_change(request, portal, form, change_id, path, body, "objection")


@router.post("/subprocessors/changes/{change_id}/objections/{objection_id}", response_class=HTMLResponse)
async def settle_objection(
    change_id: uuid.UUID, objection_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep
) -> Response:
    """Record how an objection was settled (once)."""

    def body(form: Form) -> dict[str, Any]:
        resolution = one(form, "resolution", 32)
        if resolution not in RESOLUTIONS:
            raise Invalid("Choose how the objection was settled.")
        return {"resolution": resolution, "note": one(form, "note")}

    path = f"/v1/changes/{change_id}/objections/{objection_id}/resolution"
    return await _on_change(request, portal, form, change_id, path, body, "settled")
