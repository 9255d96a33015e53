"""The console: the privacy team's pages, signed in at the identity service, acting with each person's own token."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.portal.api.console_kit import annotated, failed, page, to_login
from services.portal.api.console_today import demands_waiting, ends_to_confirm
from services.portal.api.deps import LOGIN_COOKIE, SESSION_COOKIE, Portal, PortalDep, Session, session_of
from services.portal.domain.clocks import running, soonest_first
from services.portal.domain.queue import OPEN_STATES
from services.portal.domain.urgency import due_by_end_of
from services.portal.service import oidc
from services.portal.service.backends import BackendError

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
LOOK_AHEAD_DAYS = 7
ACTIVE_INCIDENTS = ("open", "assessed", "notifying")
HOME_INCIDENTS = 20  # the incidents whose clocks the home lists, soonest due first
# The requests each of the home's request lists shows, most urgent first; the queue has every one.
HOME_REQUESTS = 50
OPEN_CHANGES = ("noticed", "objection_window_open", "held")


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


async def _section(session: Session, scope: str, load: Callable[[], Awaitable[Any]]) -> tuple[Any, str | None]:
    """A home section the person's role may read: its rows, or why they could not be loaded."""
    if not session.may(scope):
        return None, None
    try:
        return await load(), None
    except BackendError as exc:
        return None, exc.detail


async def _breach_items(portal: Portal, session: Session, now: datetime) -> dict[str, Any]:
    # The incidents whose clocks fall due first: however many are open, the home shows the most urgent.
    status = {"status": list(ACTIVE_INCIDENTS), "order": "clock", "limit": HOME_INCIDENTS}
    incidents, drafts = await asyncio.gather(
        portal.backends.as_person(session.token, "GET", "/v1/incidents", service="breach", params=status),
        portal.backends.as_person(
            session.token, "GET", "/v1/notices", service="breach", params={"status": "draft", "limit": 500}
        ),
    )
    clocks = [
        running(d, now) | {"incident": i}
        for i in incidents
        for d in i.get("deadlines", [])
        if d.get("status") in ("open", "overdue")
    ]
    clocks.sort(key=soonest_first)
    by_id = {i["id"]: i for i in incidents}
    return {
        "clocks": clocks,
        "more_incidents": len(incidents) == HOME_INCIDENTS,
        # Every draft, whether or not its incident is among the most urgent (the link names the incident then).
        "drafts": [n | {"incident": by_id.get(n["incident_id"])} for n in drafts],
    }


async def _open_objections(portal: Portal, session: Session) -> list[dict[str, Any]]:
    # The changes still open, whatever their age: the 50 newest of all would hide an old change held by an objection.
    changes = await portal.backends.as_person(
        session.token, "GET", "/v1/changes", service="subprocessor", params={"state": list(OPEN_CHANGES), "limit": 200}
    )
    return [
        o | {"change": c}
        for c in changes
        if c["state"] in OPEN_CHANGES
        for o in c.get("objections", [])
        if not o.get("resolution")
    ]


async def _escalated_sweeps(portal: Portal, session: Session) -> list[dict[str, Any]]:
    # The sweeps still escalated, whatever their age: the 200 newest of all would hide an old one.
    sweeps = await portal.backends.as_person(
        session.token, "GET", "/v1/sweeps", service="retention", params={"status": "escalated", "limit": 200}
    )
    return [s for s in sweeps if s.get("escalated_at") and not s.get("completed_at")]


@router.get("", response_class=HTMLResponse)
async def home(request: Request, portal: PortalDep) -> Response:
    """What needs a person today: requests due or unverified, troubled tasks, breach clocks and drafts, objections,
    sweeps escalated."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    now = portal.clock.now()
    # One round of calls, side by side: each list is one call, whatever the number of requests or incidents.
    try:
        (
            awaiting,
            due_soon,
            tasks,
            (breach, breach_error),
            (objections, objections_error),
            (sweeps, sweeps_error),
            demands,
            ends,
        ) = await asyncio.gather(
            # One more than shown: whether the queue holds more than the home lists.
            portal.backends.as_person(
                session.token,
                "GET",
                "/v1/requests",
                params={"state": "awaiting_verification", "order": "due", "limit": HOME_REQUESTS + 1},
            ),
            # The open requests due within the look-ahead, most urgent first: however many are open, the list
            # cut keeps the overdue ones first.
            portal.backends.as_person(
                session.token,
                "GET",
                "/v1/requests",
                params={
                    "state": list(OPEN_STATES),
                    "due_before": due_by_end_of(now, LOOK_AHEAD_DAYS).isoformat(),
                    "limit": HOME_REQUESTS + 1,
                },
            ),
            portal.backends.as_person(session.token, "GET", "/v1/tasks", params={"limit": 200}),
            _section(session, "breach:read", lambda: _breach_items(portal, session, now)),
            _section(session, "subprocessor:read", lambda: _open_objections(portal, session)),
            _section(session, "retention:read", lambda: _escalated_sweeps(portal, session)),
            _section(session, "subprocessor:read", lambda: demands_waiting(portal, session, now, LOOK_AHEAD_DAYS)),
            _section(session, "dsar:admin", lambda: ends_to_confirm(portal, session)),
        )
    except BackendError as exc:
        return failed(portal, session, request, exc)
    due = sorted(
        (r for r in (annotated(r, now) for r in due_soon[:HOME_REQUESTS]) if r["days_left"] <= LOOK_AHEAD_DAYS),
        key=lambda r: r["days_left"],
    )
    return page(
        portal,
        session,
        "console/home.html",
        awaiting=[annotated(r, now) for r in awaiting[:HOME_REQUESTS]],
        more_awaiting=len(awaiting) > HOME_REQUESTS,
        due=due,
        more_due=len(due_soon) > HOME_REQUESTS,
        troubled=tasks,  # the DSAR service's tasks that need a person: silent stores, failures
        look_ahead=LOOK_AHEAD_DAYS,
        breach=breach,
        breach_error=breach_error,
        objections=objections,
        objections_error=objections_error,
        sweeps=sweeps,
        sweeps_error=sweeps_error,
        demands=demands,
        ends=ends,
    )
