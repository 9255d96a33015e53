"""The console's register of demands from public authorities: the list, recording one, and a demand's page.

A processor hands over only what the law requires (GDPR Art. 28(3)(a)); an order of a third country's
authority binds only through an international agreement (Art. 48,
https://eur-lex.europa.eu/eli/reg/2016/679/oj). Recording a demand, starting its review, telling the
customer and closing take ``subprocessor:write``; deciding it (by someone other than whoever recorded
it), recording disclosures and deferring the customer's notification take ``subprocessor:admin``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.portal.api.console_kit import Body, Form, failed, notice_of, page, perform, post_form, to_login
from services.portal.api.deps import FormDep, Portal, PortalDep, Session, session_of
from services.portal.domain import demand_forms as forms
from services.portal.service.backends import BackendError

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
SAME_PERSON = "You recorded this demand, so another person must decide it (a second pair of eyes)."
Filter = Annotated[str, Query(max_length=32)]


def _customer(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return ""


def _filters(status: str, customer: str, country: str, since: str, until: str) -> dict[str, str]:
    return {
        "customer_id": _customer(customer),
        "status": status if status in forms.DEMAND_STATUSES else "",
        "country": country.upper() if forms.COUNTRY.fullmatch(country) else "",
        "since": since if forms.day(since) else "",
        "until": until if forms.day(until) else "",
    }


@router.get("/demands", response_class=HTMLResponse)
async def register(
    request: Request,
    portal: PortalDep,
    status: Filter = "",
    customer_id: Annotated[str, Query(max_length=64)] = "",
    country: Filter = "",
    since: Filter = "",
    until: Filter = "",
) -> Response:
    """The demands, newest first, by status, customer, authority's country and receipt date."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    filters = _filters(status, customer_id, country, since, until)
    params: dict[str, Any] = {"limit": 200} | {
        k: v for k, v in filters.items() if v and k in ("status", "customer_id", "country")
    }
    params |= {k: forms.day(v) for k, v in filters.items() if v and k in ("since", "until")}
    try:
        demands = await portal.backends.as_person(
            session.token, "GET", "/v1/demands", service="subprocessor", params=params
        )
    except BackendError as exc:
        return failed(portal, session, request, exc)
    context = {"demands": demands, "filters": filters, "statuses": forms.DEMAND_STATUSES, "labels": forms.NOTIFICATION}
    return page(portal, session, "console/demands.html", notice=notice_of(request), **context)


def _new_form(
    portal: Portal, session: Session, status: int = 200, error: str = "", form: Form | None = None
) -> Response:
    values = {k: v[0] for k, v in (form or {}).items() if v}
    now = portal.clock.now().strftime("%Y-%m-%dT%H:%M")
    return page(portal, session, "console/demand_new.html", status, values=values, now=now, error=error or None)


@router.get("/demands/new", response_class=HTMLResponse)
async def new_demand(request: Request, portal: PortalDep) -> Response:
    """The form to record a demand."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    return _new_form(portal, session)


@router.post("/demands", response_class=HTMLResponse)
async def record(request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Record a demand; its page follows."""

    async def send(session: Session) -> str:
        body = forms.demand_body(form)
        created = await portal.backends.as_person(
            session.token, "POST", "/v1/demands", service="subprocessor", json=body
        )
        return f"/console/demands/{created['id']}"

    async def show(session: Session, status: int, error: str) -> Response:
        return _new_form(portal, session, status, error, form)

    return await perform(request, portal, form, "subprocessor:write", send, "/console/demands", "demand", show)


async def _demand_page(
    request: Request, portal: Portal, session: Session, demand_id: uuid.UUID, status: int = 200, error: str = ""
) -> Response:
    try:
        demand = await portal.backends.as_person(
            session.token, "GET", f"/v1/demands/{demand_id}", service="subprocessor"
        )
    except BackendError as exc:
        return failed(portal, session, request, exc)
    try:
        path = f"/v1/customers/{demand['customer_id']}"
        customer = await portal.backends.as_person(session.token, "GET", path, service="subprocessor")
    except BackendError:
        customer = None  # the demand stands on its own; the name is a convenience
    in_force = [d for d in demand.get("deferrals", []) if not d.get("ended_at")]
    return page(
        portal,
        session,
        "console/demand.html",
        status,
        demand=demand,
        customer=customer,
        asked={c: c.replace("_", " ") for c in demand.get("data_categories", [])},
        deferral=in_force[-1] if in_force else None,
        statuses=forms.DEMAND_STATUSES,
        decisions=forms.DECISIONS,
        labels=forms.NOTIFICATION,
        own=demand.get("recorded_by") in (f"user:{session.email}", session.email),
        now=portal.clock.now().strftime("%Y-%m-%dT%H:%M"),
        error=error or None,
        notice=None if error else notice_of(request),
    )


@router.get("/demands/{demand_id}", response_class=HTMLResponse)
async def demand_page(demand_id: uuid.UUID, request: Request, portal: PortalDep) -> Response:
    """One demand: the authority and its basis, the review, disclosures, the customer's notification, the timeline."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    return await _demand_page(request, portal, session, demand_id)


async def _on_demand(
    request: Request, portal: Portal, form: Form, demand_id: uuid.UUID, action: str, scope: str, body: Body, done: str
) -> Response:
    async def show(session: Session, status: int, error: str) -> Response:
        if action == "review" and status == 409 and "recorded the demand" in error:
            error = f"{SAME_PERSON} ({error})"
        return await _demand_page(request, portal, session, demand_id, status, error)

    target = ("subprocessor", f"/v1/demands/{demand_id}/{action}")
    return await post_form(request, portal, form, scope, target, body, f"/console/demands/{demand_id}", done, show)


@router.post("/demands/{demand_id}/review/start", response_class=HTMLResponse)
async def start_review(demand_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep) -> Response:
    """The demand is under review."""
    return await _on_demand(request, portal, form, demand_id, "review/start", "subprocessor:write", None, "reviewing")


@router.post("/demands/{demand_id}/review", response_class=HTMLResponse)
async def review(demand_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Decide: disclose, in part, refuse or challenge, with the reasons (another person than the recorder)."""
    return await _on_demand(
        request, portal, form, demand_id, "review", "subprocessor:admin", forms.review_body, "decided"
    )


@router.post("/demands/{demand_id}/disclosures", response_class=HTMLResponse)
async def disclose(demand_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep) -> Response:
    """What was handed over about one person, when and how."""
    body = forms.disclosure_body
    return await _on_demand(request, portal, form, demand_id, "disclosures", "subprocessor:admin", body, "disclosed")


@router.post("/demands/{demand_id}/deferral", response_class=HTMLResponse)
async def defer(demand_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep) -> Response:
    """The legal instrument that forbids telling the customer yet, and until when."""
    return await _on_demand(
        request, portal, form, demand_id, "deferral", "subprocessor:admin", forms.deferral, "deferred"
    )


@router.post("/demands/{demand_id}/notification", response_class=HTMLResponse)
async def notify_customer(demand_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Tell the customer's contacts now (a deferral in force ends)."""
    return await _on_demand(request, portal, form, demand_id, "notification", "subprocessor:write", None, "notified")


@router.post("/demands/{demand_id}/close", response_class=HTMLResponse)
async def close(demand_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Close a decided demand, with a note."""

    def body(form: Form) -> dict[str, str]:
        return {"note": forms.one(form, "note", 4000)}

    return await _on_demand(request, portal, form, demand_id, "close", "subprocessor:write", body, "demand-closed")
