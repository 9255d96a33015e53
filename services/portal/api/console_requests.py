"""The console's rights requests: the queue (filters, order, CSV, bulk actions) and one request's page and decisions.

The decisions are the controller's, with ``dsar:admin``: verifying by document, extending once with
reasons (GDPR Art. 12(3)), refusing with grounds (Art. 12(5) and 12(4): the person is told of the right
to complain), publishing a task again, closing a silent store's task in its place
(https://eur-lex.europa.eu/eli/reg/2016/679/oj). ``dsar:write`` closes a manual system's task.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.portal.api.console_kit import (
    Body,
    Form,
    Invalid,
    annotated,
    csv_response,
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
from services.portal.domain import JURISDICTIONS, RIGHTS, STATE_LABELS
from services.portal.domain.queue import DUE_WINDOWS, OPEN, SORTS, as_csv, list_params
from services.portal.service.backends import BackendError

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
REFUSAL_GROUNDS = {
    "manifestly_unfounded": "Manifestly unfounded (Art. 12(5))",
    "manifestly_excessive": "Manifestly excessive, in particular repetitive (Art. 12(5))",
    "identity_not_established": "Identity not established (Art. 12(2), 12(6))",
    "exemption": "An exemption of the law applies",
}
OUTCOMES = {"done": "Done", "no_data": "No data held", "exempt": "Kept under an exemption"}
BULK_ACTIONS = {"extend": "Extend the deadline (with the reasons below)", "code": "Send a new verification code"}


PAGE_SIZE = 50  # requests per page of the queue
EXPORT_BATCH = 500  # the DSAR service's largest page


async def _queue_rows(
    portal: Portal, session: Session, filters: dict[str, str], *, limit: int, offset: int = 0
) -> list[dict[str, Any]]:
    # The queue opens on the requests still to answer (a closed request is one filter away): the list a team works
    # through, and one that does not grow with every request ever answered. The service filters, orders and pages.
    now = portal.clock.now()
    params = list_params(filters, now, limit=limit, offset=offset)
    if params is None:
        return []
    rows = await portal.backends.as_person(session.token, "GET", "/v1/requests", params=params)
    return [annotated(r, now) for r in rows]


def _page_href(query: str, page_number: int) -> str:
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "page"]
    return "/console/requests?" + urlencode([*kept, ("page", str(page_number))])


def _filters(state: str, type_: str, jurisdiction: str, due: str, sort: str) -> dict[str, str]:
    return {
        "state": state,
        "type": type_,
        "jurisdiction": jurisdiction,
        "due": due if due in DUE_WINDOWS else "",
        "sort": sort if sort in SORTS else "due",
    }


Filter = Annotated[str, Query(max_length=32)]


@router.get("/requests", response_class=HTMLResponse)
async def queue(
    request: Request,
    portal: PortalDep,
    state: Filter = OPEN,
    type: Filter = "",
    jurisdiction: Filter = "",
    due: Filter = "",
    sort: Filter = "due",
    page_number: Annotated[int, Query(alias="page", ge=1, le=20_000)] = 1,
) -> Response:
    """The rights requests, filtered by state, type, jurisdiction and due date, in the chosen order, a page at a
    time."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    filters = _filters(state, type, jurisdiction, due, sort)
    try:
        # One more than a page: whether there is a next page to link to.
        offset = (page_number - 1) * PAGE_SIZE
        requests = await _queue_rows(portal, session, filters, limit=PAGE_SIZE + 1, offset=offset)
    except BackendError as exc:
        return failed(portal, session, request, exc)
    more = len(requests) > PAGE_SIZE
    return page(
        portal,
        session,
        "console/queue.html",
        requests=requests[:PAGE_SIZE],
        states=STATE_LABELS,
        rights=RIGHTS,
        jurisdictions=JURISDICTIONS,
        due_windows=DUE_WINDOWS,
        sorts=SORTS,
        bulk_actions=BULK_ACTIONS,
        filters=filters,
        query=request.url.query,
        page_number=page_number,
        previous_href=_page_href(request.url.query, page_number - 1) if page_number > 1 else None,
        next_href=_page_href(request.url.query, page_number + 1) if more else None,
        notice=notice_of(request),
        error=None,
    )


@router.get("/requests.csv")
async def queue_csv(
    request: Request,
    portal: PortalDep,
    state: Filter = OPEN,
    type: Filter = "",
    jurisdiction: Filter = "",
    due: Filter = "",
    sort: Filter = "due",
) -> Response:
    """The filtered queue as CSV (no identifiers of the people: the service never shows them)."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    filters = _filters(state, type, jurisdiction, due, sort)
    requests: list[dict[str, Any]] = []
    try:
        while True:  # every request the filters keep, however many: the service answers 500 at most per call
            batch = await _queue_rows(portal, session, filters, limit=EXPORT_BATCH, offset=len(requests))
            requests += batch
            if len(batch) < EXPORT_BATCH:
                break
    except BackendError as exc:
        return failed(portal, session, request, exc)
    return csv_response(as_csv(requests), f"requests-{portal.clock.now().date().isoformat()}.csv")


@router.post("/requests/bulk", response_class=HTMLResponse)
async def bulk(request: Request, form: FormDep, portal: PortalDep) -> Response:
    """One action on the selected requests: extend each deadline (same reasons), or send a new code."""
    action = one(form, "action", 16)
    ids = [i for i in form.get("ids", []) if i][:200]

    async def send(session: Session) -> None:
        if action not in BULK_ACTIONS:
            raise Invalid("Choose what to do with the selected requests.")
        if not ids:
            raise Invalid("Select at least one request.")
        try:
            checked = [uuid.UUID(i) for i in ids]
        except ValueError:
            raise Invalid("A selected request is not one of the queue's.") from None
        calls: list[tuple[str, dict[str, str] | None]]
        if action == "extend":
            body = {"reasons": required(form, "reasons", "the reasons for the extension")}
            calls = [(f"/v1/requests/{i}/extension", body) for i in checked]
        else:
            calls = [(f"/v1/requests/{i}/verification/code", None) for i in checked]
        results = await asyncio.gather(
            *(portal.backends.as_person(session.token, "POST", path, json=body) for path, body in calls),
            return_exceptions=True,
        )
        errors = [r for r in results if isinstance(r, BackendError)]
        if errors:
            done = len(results) - len(errors)
            raise Invalid(f"{done} of {len(results)} done; the others were refused: {errors[0].detail}")

    async def show(session: Session, status: int, error: str) -> Response:
        filters = _filters(OPEN, "", "", "", "due")
        try:
            requests = await _queue_rows(portal, session, filters, limit=PAGE_SIZE)
        except BackendError as exc:
            return failed(portal, session, request, exc)
        return page(
            portal,
            session,
            "console/queue.html",
            status,
            requests=requests,
            states=STATE_LABELS,
            rights=RIGHTS,
            jurisdictions=JURISDICTIONS,
            due_windows=DUE_WINDOWS,
            sorts=SORTS,
            bulk_actions=BULK_ACTIONS,
            filters=filters,
            query="",
            page_number=1,
            previous_href=None,
            next_href=None,
            notice=None,
            error=error,
        )

    scope = "dsar:admin" if action == "extend" else "dsar:write"
    return await perform(request, portal, form, scope, send, "/console/requests", "bulk", show)


async def _request_page(
    request: Request, portal: Portal, session: Session, request_id: uuid.UUID, status: int = 200, error: str = ""
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
        transfers = (
            await portal.backends.as_person(session.token, "GET", f"{path}/transfers")
            if (found.get("type") == "portability")
            else []
        )
    except BackendError as exc:
        return failed(portal, session, request, exc)
    return page(
        portal,
        session,
        "console/request.html",
        status,
        request=annotated(found, portal.clock.now()),
        tasks=tasks,
        certificate=certificate,
        transfers=transfers,
        error=error or None,
        notice=None if error else notice_of(request),
        grounds=REFUSAL_GROUNDS,
        outcomes=OUTCOMES,
    )


@router.get("/requests/{request_id}", response_class=HTMLResponse)
async def request_page(request_id: uuid.UUID, request: Request, portal: PortalDep) -> Response:
    """One request: its clock and basis, timeline, verification, tasks per system, the certificate."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    return await _request_page(request, portal, session, request_id)


async def _on_request(
    request: Request, portal: Portal, form: Form, request_id: uuid.UUID, scope: str, path: str, body: Body, done: str
) -> Response:
    """Post ``body`` to the DSAR service's ``path``; back to the request (or its page again with why not)."""

    async def show(session: Session, status: int, error: str) -> Response:
        return await _request_page(request, portal, session, request_id, status, error)

    back = f"/console/requests/{request_id}"
    return await post_form(request, portal, form, scope, ("dsar", path), body, back, done, show)


@router.post("/requests/{request_id}/verify", response_class=HTMLResponse)
async def verify_by_document(request_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Record that the person's identity was checked on a document (the DSAR manual verification)."""

    def body(form: Form) -> dict[str, Any]:
        evidence = required(form, "evidence_ref", "the reference of the document seen", 255)
        return {"evidence_ref": evidence, "note": one(form, "note", 2000) or None}

    path = f"/v1/requests/{request_id}/verification/manual"
    return await _on_request(request, portal, form, request_id, "dsar:admin", path, body, "verified")


@router.post("/requests/{request_id}/extend", response_class=HTMLResponse)
async def extend(request_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Extend the deadline once, with the reasons the person is told (Art. 12(3))."""

    def body(form: Form) -> dict[str, Any]:
        return {"reasons": required(form, "reasons", "the reasons the person will read")}

    path = f"/v1/requests/{request_id}/extension"
    return await _on_request(request, portal, form, request_id, "dsar:admin", path, body, "extended")


@router.post("/requests/{request_id}/refuse", response_class=HTMLResponse)
async def refuse(request_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Refuse with grounds and reasons (the person is told of the right to complain, Art. 12(4))."""

    def body(form: Form) -> dict[str, Any]:
        grounds = one(form, "grounds", 64)
        if grounds not in REFUSAL_GROUNDS:
            raise Invalid("Choose the grounds of the refusal.")
        return {"grounds": grounds, "reasons": required(form, "reasons", "the reasons of the refusal")}

    path = f"/v1/requests/{request_id}/refusal"
    return await _on_request(request, portal, form, request_id, "dsar:admin", path, body, "refused")


@router.post("/requests/{request_id}/tasks/{task_id}/retry", response_class=HTMLResponse)
async def retry_task(
    request_id: uuid.UUID, task_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep
) -> Response:
    """Publish a failed, escalated or silent store's task again, with the reason (audited)."""

    def body(form: Form) -> dict[str, Any]:
        return {"reason": required(form, "reason", "why the task is published again", 2000)}

    path = f"/v1/tasks/{task_id}/retry"
    return await _on_request(request, portal, form, request_id, "dsar:admin", path, body, "retried")


@router.post("/requests/{request_id}/tasks/{task_id}/close", response_class=HTMLResponse)
async def close_task(
    request_id: uuid.UUID, task_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep
) -> Response:
    """Answer in a system's place with the outcome and the evidence (a silent store's task needs a reason)."""

    def body(form: Form) -> dict[str, Any]:
        outcome = one(form, "outcome", 16)
        if outcome not in OUTCOMES:
            raise Invalid("Choose the outcome of the task.")
        records = one(form, "records_affected", 12) or "0"
        if not records.isdigit():
            raise Invalid("Give the number of records affected as a whole number.")
        sent: dict[str, Any] = {
            "outcome": outcome,
            "records_affected": int(records),
            "evidence": required(form, "evidence", "what was done and where the proof is"),
        }
        for name in ("exemption", "reason"):
            if one(form, name, 2000):
                sent[name] = one(form, name, 2000)
        return sent

    manual = one(form, "manual", 8) == "yes"
    path = f"/v1/tasks/{task_id}/close"
    scope = "dsar:write" if manual else "dsar:admin"
    return await _on_request(request, portal, form, request_id, scope, path, body, "closed")
