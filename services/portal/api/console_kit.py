"""What every console page and form shares: the session or the way to sign in, pages, problems, and one action flow.

A console form posts, the portal checks the session, the form token and the person's scope, calls the
service with the person's own token, then sends the browser back to the page (303, so a reload does not
post twice) with the name of what was done; an answer the person can fix (400, 409, 422) shows the page
again with the service's reason. A role without the scope gets no button, and a 403 page if it posts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.portal.api.deps import Portal, Session, session_of
from services.portal.domain import STATE_LABELS, FormError, days_left
from services.portal.service.backends import BackendError

Form = dict[str, list[str]]
Show = Callable[[Session, int, str], Awaitable[Response]]
Send = Callable[[Session], Awaitable[Any]]
FIXABLE = (400, 409, 422)

# What a form did, by the key it sends the browser back with (never text taken from the address).
DONE: dict[str, str] = {
    "verified": "Identity verified.",
    "extended": "Deadline extended; the reasons go to the person.",
    "refused": "Request refused; the person is told why and of the right to complain.",
    "retried": "Task published again.",
    "closed": "Task closed with its evidence.",
    "bulk": "Done for the selected requests.",
    "reported": "Breach entered in the register; its clocks run.",
    "assessed": "Severity assessed; the clocks follow the risk.",
    "drafted": "Notice drafted.",
    "sent": "Notice sent.",
    "proposed": "Change proposed; every affected customer gets a notice.",
    "objection": "Objection recorded.",
    "settled": "Objection settled.",
    "held": "Legal hold placed.",
    "released": "Legal hold released.",
    "pack": "Default policy pack installed.",
    "swept": "Sweep started.",
    "import": "Import opened.",
    "demand": "Demand recorded; the customer's contacts are told unless a deferral forbids it.",
    "reviewing": "Review started.",
    "decided": "Decision recorded.",
    "disclosed": "Disclosure recorded.",
    "deferred": "Deferral recorded; the customer is not told until it ends.",
    "notified": "The customer's contacts are being told now.",
    "demand-closed": "Demand closed.",
    "end-asked": "Contract end recorded; another person must confirm it.",
    "end-confirmed": "Contract end confirmed; it runs from its effective date and cannot be undone.",
    "end-cancelled": "Contract end cancelled.",
    "task-closed": "The system's task is closed with its evidence.",
    "people": "People added to the incident.",
    "approval-asked": "Approval asked of the customer by mail.",
    "approval": "The customer's answer is recorded.",
    "published": "Public communication recorded.",
    "notice-version": "Notice version published.",
}


class Invalid(Exception):
    """A form the person must fix; the message says how."""


def to_login(request: Request) -> RedirectResponse:
    """Send a stranger to sign in, back to this page afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/console/login?next={quote(target, safe='')}", status_code=303)


def page(portal: Portal, session: Session | None, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A console page for the signed-in person."""
    return portal.render(template, status, session=session, **context)


def problem(portal: Portal, session: Session | None, status: int, title: str, detail: str) -> HTMLResponse:
    """The console's problem page."""
    return page(portal, session, "console/problem.html", status, title=title, detail=detail)


def failed(portal: Portal, session: Session, request: Request, error: BackendError) -> Response:
    """A service's error as a page: sign in again on 401, a clear page on 403 and 404, else 502."""
    if error.status == 401:
        return to_login(request)
    if error.status == 403:
        return problem(portal, session, 403, "Not allowed", f"Your role does not allow this. {error.detail}")
    if error.status == 404:
        return problem(portal, session, 404, "Not found", error.detail)
    return problem(portal, session, 502, "A service did not answer", error.detail)


def notice_of(request: Request) -> str | None:
    """The message of what the last form did (``?done=<key>``)."""
    return DONE.get(request.query_params.get("done", ""))


def one(form: Form, name: str, limit: int = 4000) -> str:
    """A form field, trimmed and bounded ('' when missing)."""
    return (form.get(name) or [""])[0].strip()[:limit]


def required(form: Form, name: str, label: str, limit: int = 4000) -> str:
    """A field the person must fill (``Invalid`` naming ``label`` otherwise)."""
    value = one(form, name, limit)
    if not value:
        raise Invalid(f"Fill in {label}.")
    return value


def annotated(request: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A rights request with its days left and state label."""
    due = datetime.fromisoformat(request["deadline"]["due_at"])
    return request | {
        "days_left": days_left(due, now),
        "state_label": STATE_LABELS.get(request["state"], request["state"]),
    }


async def perform(
    request: Request,
    portal: Portal,
    form: Form,
    scope: str,
    send: Send,
    back: str,
    done: str,
    show: Show,
) -> Response:
    """Check the session, form token and ``scope``, ``send``, then back to ``back`` with ``done`` (or ``show`` why not).

    ``send`` may return the path of what it created, to go there instead of ``back``.
    """
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    if one(form, "csrf", 256) != session.csrf:
        return problem(portal, session, 403, "Not allowed", "This form has expired; open the page again.")
    if not session.may(scope):
        return problem(portal, session, 403, "Not allowed", f"Your role does not allow this (it needs {scope}).")
    try:
        created = await send(session)
    except Invalid as exc:
        return await show(session, 422, str(exc))
    except FormError as exc:
        return await show(session, 422, " ".join(exc.errors.values()))
    except BackendError as exc:
        if exc.status in FIXABLE:
            return await show(session, exc.status, exc.detail)
        return failed(portal, session, request, exc)
    target = created if isinstance(created, str) else back  # a form that creates goes to what it created
    return RedirectResponse(f"{target}?done={done}", status_code=303)


Body = dict[str, Any] | Callable[[Form], dict[str, Any]] | None


async def post_form(
    request: Request,
    portal: Portal,
    form: Form,
    scope: str,
    target: tuple[str, str],
    body: Body,
    back: str,
    done: str,
    show: Show,
) -> Response:
    """``perform`` one POST of ``body`` (a dict, None, or a function of the form raising ``Invalid``) to
    ``target`` (service, path)."""
    service, path = target

    async def send(session: Session) -> None:
        json = body(form) if callable(body) else body
        await portal.backends.as_person(session.token, "POST", path, service=service, json=json)

    return await perform(request, portal, form, scope, send, back, done, show)


def csv_response(text: str, filename: str) -> Response:
    """A CSV download."""
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
