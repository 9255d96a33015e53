"""The console: the privacy team's pages, signed in at the identity service, acting with each person's own token."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.portal.api.deps import LOGIN_COOKIE, SESSION_COOKIE, FormDep, Portal, PortalDep, Session, session_of
from services.portal.domain import JURISDICTIONS, RIGHTS, STATE_LABELS, days_left
from services.portal.service import oidc
from services.portal.service.backends import BackendError

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
OPEN_STATES = ("received", "awaiting_verification", "verified", "in_progress")
LOOK_AHEAD_DAYS = 7
TROUBLED_TASKS = ("failed", "escalated", "silent")


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/console/login?next={quote(target, safe='')}", status_code=303)


def _page(portal: Portal, session: Session, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return portal.render(template, status, session=session, **context)


def _failed(portal: Portal, session: Session, request: Request, error: BackendError) -> Response:
    if error.status == 401:
        return _to_login(request)
    titles = {403: "Not allowed", 404: "Not found"}
    return _page(
        portal,
        session,
        "console/problem.html",
        error.status if error.status in titles else 502,
        title=titles.get(error.status, "A service did not answer"),
        detail=error.detail,
    )


def _annotated(request: dict[str, Any], now: datetime) -> dict[str, Any]:
    due = datetime.fromisoformat(request["deadline"]["due_at"])
    return request | {
        "days_left": days_left(due, now),
        "state_label": STATE_LABELS.get(request["state"], request["state"]),
    }


@router.get("/login")
async def login(portal: PortalDep, next: Annotated[str, Query(max_length=512)] = "/console") -> Response:
    """Send the browser to the identity service's sign-in form."""
    if not portal.settings.browser_identity_url:
        return portal.render(
            "console/problem.html",
            503,
            session=None,
            title="Sign-in not configured",
            detail="Set PORTAL_IDENTITY_URL to the identity service.",
        )
    url, pending = oidc.start(portal.settings, next)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        LOGIN_COOKIE,
        portal.sealer.seal("login", pending),
        max_age=600,
        httponly=True,
        samesite="lax",
        secure=portal.settings.secure_cookies,
        path="/console",
    )
    return response


@router.get("/callback")
async def callback(
    request: Request,
    portal: PortalDep,
    code: Annotated[str, Query(max_length=512)] = "",
    state: Annotated[str, Query(max_length=512)] = "",
    error: Annotated[str, Query(max_length=128)] = "",
) -> Response:
    """Back from the identity service: exchange the code, open the session."""
    pending = portal.sealer.open("login", request.cookies.get(LOGIN_COOKIE), max_age_s=600)
    try:
        if error or not code:
            raise oidc.LoginFailed(f"The sign-in was not completed ({error or 'no code'}).")
        if pending is None or pending.get("state") != state:
            raise oidc.LoginFailed("This sign-in was started in another browser or has expired; please sign in again.")
        session = await oidc.finish(portal.backends.http, portal.settings, code, pending)
    except oidc.LoginFailed as exc:
        return portal.render("console/problem.html", 400, session=None, title="Cannot sign in", detail=str(exc))
    response = RedirectResponse(str(pending.get("next") or "/console"), status_code=303)
    response.delete_cookie(LOGIN_COOKIE, path="/console")
    response.set_cookie(
        SESSION_COOKIE,
        portal.sealer.seal("session", session),
        max_age=int(portal.settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=portal.settings.secure_cookies,
        path="/",
    )
    return response


@router.post("/logout")
async def logout(request: Request, portal: PortalDep) -> Response:
    """End the console session."""
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("", response_class=HTMLResponse)
async def home(request: Request, portal: PortalDep) -> Response:
    """What needs a person today: unverified requests, deadlines within a week or past, troubled tasks."""
    session = session_of(request, portal)
    if session is None:
        return _to_login(request)
    now = portal.clock.now()
    try:
        lists = await asyncio.gather(
            *(
                portal.backends.as_person(session.token, "GET", "/v1/requests", params={"state": s, "limit": 500})
                for s in OPEN_STATES
            )
        )
        open_requests = [_annotated(r, now) for rows in lists for r in rows]
        busy = [r for r in open_requests if r["state"] == "in_progress"][:20]
        task_lists = await asyncio.gather(
            *(portal.backends.as_person(session.token, "GET", f"/v1/requests/{r['id']}/tasks") for r in busy)
        )
    except BackendError as exc:
        return _failed(portal, session, request, exc)
    troubled = [t for tasks in task_lists for t in tasks if t["state"] in TROUBLED_TASKS or t.get("escalated_at")]
    due = sorted((r for r in open_requests if r["days_left"] <= LOOK_AHEAD_DAYS), key=lambda r: r["days_left"])
    awaiting = [r for r in open_requests if r["state"] == "awaiting_verification"]
    return _page(
        portal, session, "console/home.html", awaiting=awaiting, due=due, troubled=troubled, look_ahead=LOOK_AHEAD_DAYS
    )


@router.get("/requests", response_class=HTMLResponse)
async def queue(
    request: Request,
    portal: PortalDep,
    state: Annotated[str, Query(max_length=32)] = "",
    type: Annotated[str, Query(max_length=32)] = "",
    jurisdiction: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    """The rights requests, filtered by state, type and jurisdiction, the most urgent first."""
    session = session_of(request, portal)
    if session is None:
        return _to_login(request)
    params: dict[str, Any] = {"limit": 500} | ({"state": state} if state else {})
    try:
        rows = await portal.backends.as_person(session.token, "GET", "/v1/requests", params=params)
    except BackendError as exc:
        return _failed(portal, session, request, exc)
    now = portal.clock.now()
    requests = [
        _annotated(r, now)
        for r in rows
        if (not type or r["type"] == type) and (not jurisdiction or r["jurisdiction"] == jurisdiction)
    ]
    requests.sort(key=lambda r: (r["state"] not in OPEN_STATES, r["days_left"]))
    return _page(
        portal,
        session,
        "console/queue.html",
        requests=requests,
        states=STATE_LABELS,
        rights=RIGHTS,
        jurisdictions=JURISDICTIONS,
        filters={"state": state, "type": type, "jurisdiction": jurisdiction},
    )


async def _request_page(
    request: Request,
    portal: PortalDep,
    session: Session,
    request_id: uuid.UUID,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
) -> Response:
    path = f"/v1/requests/{request_id}"
    try:
        found, tasks = await asyncio.gather(
            portal.backends.as_person(session.token, "GET", path),
            portal.backends.as_person(session.token, "GET", f"{path}/tasks"),
        )
        certificate = None
        if found.get("certificate_id"):
            certificate = await portal.backends.as_person(session.token, "GET", f"{path}/certificate")
    except BackendError as exc:
        return _failed(portal, session, request, exc)
    return _page(
        portal,
        session,
        "console/request.html",
        status,
        request=_annotated(found, portal.clock.now()),
        tasks=tasks,
        certificate=certificate,
        error=error,
        notice=notice,
    )


@router.get("/requests/{request_id}", response_class=HTMLResponse)
async def request_page(request_id: uuid.UUID, request: Request, portal: PortalDep) -> Response:
    """One request: its clock and basis, verification, tasks per system, the certificate."""
    session = session_of(request, portal)
    if session is None:
        return _to_login(request)
    return await _request_page(request, portal, session, request_id)


@router.post("/requests/{request_id}/verify", response_class=HTMLResponse)
async def verify_by_document(request_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Record that the person's identity was checked on a document (the DSAR manual verification)."""
    session = session_of(request, portal)
    if session is None:
        return _to_login(request)
    if (form.get("csrf") or [""])[0] != session.csrf:
        return _page(
            portal,
            session,
            "console/problem.html",
            403,
            title="Not allowed",
            detail="This form has expired; open the request again.",
        )
    evidence = (form.get("evidence_ref") or [""])[0].strip()[:255]
    note = (form.get("note") or [""])[0].strip()[:2000] or None
    if not evidence:
        return await _request_page(
            request, portal, session, request_id, 422, "Give the reference of the document seen."
        )
    try:
        await portal.backends.as_person(
            session.token,
            "POST",
            f"/v1/requests/{request_id}/verification/manual",
            json={"evidence_ref": evidence, "note": note},
        )
    except BackendError as exc:
        if exc.status in (400, 403, 409, 422):
            return await _request_page(request, portal, session, request_id, exc.status, exc.detail)
        return _failed(portal, session, request, exc)
    return await _request_page(request, portal, session, request_id, notice="Identity verified.")
