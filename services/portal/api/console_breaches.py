"""The console's breaches: the register and its CSV for an authority, the report form, and one incident's page.

An incident's page shows each jurisdiction's clock counting down, the ENISA severity assessment and its
inputs, the notices drafted per stage with their Art. 33(3) contents, sending them, and the timeline
(GDPR Arts. 33 and 34, https://eur-lex.europa.eu/eli/reg/2016/679/oj). Acting takes ``breach:write``.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.portal.api.console_kit import (
    Body,
    Form,
    csv_response,
    failed,
    notice_of,
    one,
    page,
    perform,
    post_form,
    to_login,
)
from services.portal.api.deps import FormDep, Portal, PortalDep, Session, session_of
from services.portal.domain import breach_forms as forms
from services.portal.domain.clocks import register_csv, running, soonest_first
from services.portal.service.backends import BackendError

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
STATUSES = {"open": "Open", "assessed": "Assessed", "notifying": "Notifying", "closed": "Closed"}
CHOICES = {
    "natures": forms.NATURES,
    "jurisdictions": forms.JURISDICTIONS,
    "categories": forms.DATA_CATEGORIES,
    "ease": forms.EASE,
    "confidentiality": forms.CONFIDENTIALITY,
    "integrity": forms.INTEGRITY,
    "availability": forms.AVAILABILITY,
    "kinds": forms.NOTICE_KINDS,
    "stages": forms.NOTICE_STAGES,
    "to_follow": forms.TO_FOLLOW,
}


PAGE_SIZE = 50  # incidents per page of the register
EXPORT_BATCH = 500  # the breach service's largest page


async def _register(
    portal: Portal, session: Session, status: str, *, limit: int, offset: int = 0
) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"limit": limit, "offset": offset} | ({"status": status} if status in STATUSES else {})
    rows: list[dict[str, Any]] = await portal.backends.as_person(
        session.token, "GET", "/v1/incidents", service="breach", params=params
    )
    return rows


def _page_href(status: str, page: int) -> str:
    return "/console/breaches?" + urlencode({"status": status, "page": page} if status else {"page": page})


@router.get("/breaches", response_class=HTMLResponse)
async def register(
    request: Request,
    portal: PortalDep,
    status: Annotated[str, Query(max_length=16)] = "",
    page_number: Annotated[int, Query(alias="page", ge=1, le=20_000)] = 1,
) -> Response:
    """The breach register, most recent awareness first, with each incident's next clock, a page at a time."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    try:
        # One more than a page: whether there is an older page to link to.
        incidents = await _register(portal, session, status, limit=PAGE_SIZE + 1, offset=(page_number - 1) * PAGE_SIZE)
    except BackendError as exc:
        return failed(portal, session, request, exc)
    older = len(incidents) > PAGE_SIZE
    incidents = incidents[:PAGE_SIZE]
    now = portal.clock.now()
    for incident in incidents:
        clocks = [running(d, now) for d in incident.get("deadlines", []) if d.get("status") in ("open", "overdue")]
        incident["next_clock"] = min(clocks, key=soonest_first, default=None)
    return page(
        portal,
        session,
        "console/breaches.html",
        incidents=incidents,
        statuses=STATUSES,
        current=status,
        page_number=page_number,
        newer_href=_page_href(status, page_number - 1) if page_number > 1 else None,
        older_href=_page_href(status, page_number + 1) if older else None,
        notice=notice_of(request),
    )


@router.get("/breaches.csv")
async def register_export(
    request: Request, portal: PortalDep, status: Annotated[str, Query(max_length=16)] = ""
) -> Response:
    """The whole register as CSV, the facts Art. 33(5) asks to document, for a supervisory authority."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    incidents: list[dict[str, Any]] = []
    try:
        while True:  # every incident, however long the register: the service answers 500 at most per call
            batch = await _register(portal, session, status, limit=EXPORT_BATCH, offset=len(incidents))
            incidents += batch
            if len(batch) < EXPORT_BATCH:
                break
    except BackendError as exc:
        return failed(portal, session, request, exc)
    return csv_response(register_csv(incidents), f"breach-register-{portal.clock.now().date().isoformat()}.csv")


def _report_form(
    portal: Portal, session: Session, status: int = 200, error: str = "", form: Form | None = None
) -> Response:
    values = {k: v[0] for k, v in (form or {}).items() if v}
    picked = {k: set(v) for k, v in (form or {}).items()}
    return page(
        portal,
        session,
        "console/breach_new.html",
        status,
        error=error or None,
        values=values,
        picked=picked,
        choices=CHOICES,
        now=portal.clock.now().strftime("%Y-%m-%dT%H:%M"),
    )


@router.get("/breaches/new", response_class=HTMLResponse)
async def report_form(request: Request, portal: PortalDep) -> Response:
    """The form to report a breach."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    return _report_form(portal, session)


@router.post("/breaches", response_class=HTMLResponse)
async def report(request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Enter a breach in the register; its clocks start at the awareness time given."""

    async def send(session: Session) -> str:
        body = forms.incident_body(form, session.email or "console", portal.clock.now())
        created = await portal.backends.as_person(session.token, "POST", "/v1/incidents", service="breach", json=body)
        return f"/console/breaches/{created['id']}"

    async def show(session: Session, status: int, error: str) -> Response:
        return _report_form(portal, session, status, error, form)

    return await perform(request, portal, form, "breach:write", send, "/console/breaches", "reported", show)


async def _incident_page(
    request: Request, portal: Portal, session: Session, incident_id: uuid.UUID, status: int = 200, error: str = ""
) -> Response:
    base = f"/v1/incidents/{incident_id}"
    try:
        incident, timeline, assessments, notices = await asyncio.gather(
            *(
                portal.backends.as_person(session.token, "GET", path, service="breach")
                for path in (base, f"{base}/timeline", f"{base}/assessments", f"{base}/notices")
            )
        )
        await asyncio.gather(*(_to_people(portal, session, n) for n in notices if n.get("kind") == "individuals"))
    except BackendError as exc:
        return failed(portal, session, request, exc)
    now = portal.clock.now()
    clocks = [running(d, now) for d in incident.get("deadlines", [])]
    return page(
        portal,
        session,
        "console/breach.html",
        status,
        incident=incident,
        clocks=clocks,
        timeline=timeline,
        assessments=assessments,
        notices=notices,
        choices=CHOICES,
        error=error or None,
        notice=None if error else notice_of(request),
    )


async def _to_people(portal: Portal, session: Session, notice: dict[str, Any]) -> None:
    """A notice to individuals (Art. 34) with the customer's approvals and its deliveries counted by status."""
    path = f"/v1/notices/{notice['id']}"
    notice["approvals"] = []
    if notice.get("approval_status") is not None:
        notice["approvals"] = await portal.backends.as_person(
            session.token, "GET", f"{path}/approvals", service="breach"
        )
    notice["delivery_counts"] = None
    if notice.get("status") == "sent":
        notice["delivery_counts"] = await portal.backends.as_person(
            session.token, "GET", f"{path}/deliveries", service="breach"
        )


@router.get("/breaches/{incident_id}", response_class=HTMLResponse)
async def incident_page(incident_id: uuid.UUID, request: Request, portal: PortalDep) -> Response:
    """One incident: its clocks, severity, notices and timeline."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    return await _incident_page(request, portal, session, incident_id)


async def _on_incident(
    request: Request, portal: Portal, form: Form, incident_id: uuid.UUID, path: str, body: Body, done: str
) -> Response:
    async def show(session: Session, status: int, error: str) -> Response:
        return await _incident_page(request, portal, session, incident_id, status, error)

    back = f"/console/breaches/{incident_id}"
    return await post_form(request, portal, form, "breach:write", ("breach", path), body, back, done, show)


@router.post("/breaches/{incident_id}/assess", response_class=HTMLResponse)
async def assess(incident_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Score the severity with the ENISA method; the service decides whom to notify and moves the clocks."""
    path = f"/v1/incidents/{incident_id}/assessments"
    return await _on_incident(request, portal, form, incident_id, path, forms.assessment_body, "assessed")


@router.post("/breaches/{incident_id}/notices", response_class=HTMLResponse)
async def draft(incident_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Draft a notice of a stage from the incident's current facts (Art. 33(3) contents)."""
    path = f"/v1/incidents/{incident_id}/notices"
    return await _on_incident(request, portal, form, incident_id, path, forms.notice_body, "drafted")


@router.post("/breaches/{incident_id}/notices/{notice_id}/send", response_class=HTMLResponse)
async def send_notice(
    incident_id: uuid.UUID, notice_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep
) -> Response:
    """Approve and send a draft (it is frozen); a late notice gives the reasons for the delay (Art. 33(1))."""

    def body(form: Form) -> dict[str, Any]:
        reasons = one(form, "delay_reasons", 2000)
        return {"delay_reasons": reasons} if reasons else {}

    path = f"/v1/notices/{notice_id}/send"
    return await _on_incident(request, portal, form, incident_id, path, body, "sent")
