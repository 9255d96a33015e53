"""The console's contract ends: ask with the mode and the date, a second person confirms, follow each system,
download the signed certificate of destruction.

At the end of the contract a processor returns the personal data (at the controller's choice) and
deletes it (GDPR Art. 28(3)(g), https://eur-lex.europa.eu/eli/reg/2016/679/oj). It cannot be undone
once it runs, so whoever asks may not also confirm: the DSAR service refuses (403) and the page says
so. Everything here takes ``dsar:admin``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.portal.api.console_kit import (
    Body,
    Form,
    Invalid,
    failed,
    notice_of,
    page,
    perform,
    post_form,
    to_login,
)
from services.portal.api.deps import FormDep, Portal, PortalDep, Session, session_of
from services.portal.domain import demand_forms as forms
from services.portal.service.backends import BackendError

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
SCOPE = "dsar:admin"
BASE = "/v1/contract-ends"
FOUR_EYES = "You asked for this contract end, so another person must confirm it (four eyes)."
CHOICES: dict[str, Any] = {"modes": forms.END_MODES, "states": forms.END_STATES, "outcomes": forms.TASK_OUTCOMES}


async def _list_page(
    request: Request, portal: Portal, session: Session, status: int = 200, error: str = "", form: Form | None = None
) -> Response:
    try:
        ends = await portal.backends.as_person(session.token, "GET", BASE, service="dsar")
    except BackendError as exc:
        return failed(portal, session, request, exc)
    values = {k: v[0] for k, v in (form or {}).items() if v}
    today = portal.clock.now().date().isoformat()
    context: dict[str, Any] = {"ends": ends, "values": values, "today": today, "scope": SCOPE} | CHOICES
    notice = None if error else notice_of(request)
    return page(portal, session, "console/contract_ends.html", status, error=error or None, notice=notice, **context)


@router.get("/contract-ends", response_class=HTMLResponse)
async def contract_ends(request: Request, portal: PortalDep) -> Response:
    """The tenant's contract ends, newest first, and the form to ask for one."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    if not session.may(SCOPE):  # the service's list needs it too: say so plainly rather than relay a 403
        return page(portal, session, "console/contract_ends.html", ends=None, scope=SCOPE, **CHOICES)
    return await _list_page(request, portal, session)


@router.post("/contract-ends", response_class=HTMLResponse)
async def ask(request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Record the end of the contract; its page follows, waiting for a second person."""

    async def send(session: Session) -> str:
        created = await portal.backends.as_person(
            session.token, "POST", BASE, service="dsar", json=forms.contract_end_body(form)
        )
        return f"/console/contract-ends/{created['id']}"

    async def show(session: Session, status: int, error: str) -> Response:
        return await _list_page(request, portal, session, status, error, form)

    return await perform(request, portal, form, SCOPE, send, "/console/contract-ends", "end-asked", show)


async def _end_page(
    request: Request, portal: Portal, session: Session, end_id: uuid.UUID, status: int = 200, error: str = ""
) -> Response:
    try:
        end = await portal.backends.as_person(session.token, "GET", f"{BASE}/{end_id}", service="dsar")
    except BackendError as exc:
        return failed(portal, session, request, exc)
    mine = end.get("requested_by") in (f"user:{session.email}", session.email)
    context: dict[str, Any] = {"end": end, "mine": mine, "scope": SCOPE} | CHOICES
    notice = None if error else notice_of(request)
    return page(portal, session, "console/contract_end.html", status, error=error or None, notice=notice, **context)


@router.get("/contract-ends/{end_id}", response_class=HTMLResponse)
async def contract_end(end_id: uuid.UUID, request: Request, portal: PortalDep) -> Response:
    """One contract end: its stage, each system's part, the certificate once issued."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    return await _end_page(request, portal, session, end_id)


async def _on_end(
    request: Request, portal: Portal, form: Form, end_id: uuid.UUID, action: str, body: Body, done: str
) -> Response:
    async def show(session: Session, status: int, error: str) -> Response:
        return await _end_page(request, portal, session, end_id, status, error)

    back = f"/console/contract-ends/{end_id}"
    return await post_form(request, portal, form, SCOPE, ("dsar", f"{BASE}/{end_id}/{action}"), body, back, done, show)


@router.post("/contract-ends/{end_id}/confirm", response_class=HTMLResponse)
async def confirm(end_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep) -> Response:
    """A second person confirms; the one who asked is refused with the reason, on the page."""

    async def send(session: Session) -> None:
        try:
            await portal.backends.as_person(session.token, "POST", f"{BASE}/{end_id}/confirm", service="dsar")
        except BackendError as exc:
            if exc.status == 403 and session.may(SCOPE):  # the scope is there: the service refuses the same person
                raise Invalid(f"{FOUR_EYES} ({exc.detail})") from exc
            raise

    async def show(session: Session, status: int, error: str) -> Response:
        return await _end_page(request, portal, session, end_id, 403 if FOUR_EYES in error else status, error)

    back = f"/console/contract-ends/{end_id}"
    return await perform(request, portal, form, SCOPE, send, back, "end-confirmed", show)


@router.post("/contract-ends/{end_id}/cancel", response_class=HTMLResponse)
async def cancel(end_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Cancel before it starts."""
    return await _on_end(request, portal, form, end_id, "cancel", None, "end-cancelled")


@router.post("/contract-ends/{end_id}/tasks/{task_id}/close", response_class=HTMLResponse)
async def close_task(
    end_id: uuid.UUID, task_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep
) -> Response:
    """A person closes a manual system's task (or a store's that cannot), with the evidence."""
    return await _on_end(request, portal, form, end_id, f"tasks/{task_id}/close", forms.task_close_body, "task-closed")


@router.get("/contract-ends/{end_id}/certificate")
async def certificate(end_id: uuid.UUID, request: Request, portal: PortalDep) -> Response:
    """The signed certificate of destruction as a JSON file (verify it with ``privops verify``)."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    try:
        found = await portal.backends.as_person(session.token, "GET", f"{BASE}/{end_id}/certificate", service="dsar")
    except BackendError as exc:
        return failed(portal, session, request, exc)
    return Response(
        json.dumps(found, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="destruction-certificate-{end_id}.json"',
            "Cache-Control": "no-store",
        },
    )
