"""The console's evidence pack: a period, and the signed ZIP the identity service assembles, streamed to the browser.

A processor makes available the information that demonstrates compliance and contributes to audits
(GDPR Art. 28(3)(h)); a controller demonstrates its own (Art. 5(2),
https://eur-lex.europa.eu/eli/reg/2016/679/oj). The pack holds no personal data; its manifest is signed
with the tenant's document key, so whoever receives it checks it with ``privops verify pack.zip``.
Building one takes ``evidence:read`` (admin, dpo, auditor).
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from services.portal.api.console_kit import FIXABLE, Form, failed, one, page, problem, to_login
from services.portal.api.deps import FormDep, Portal, PortalDep, Session, session_of
from services.portal.service.backends import BackendError

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
SCOPE = "evidence:read"
MAX_DAYS = 3 * 366  # a few years at most: one audit's period, not the whole history
PACK_TIMEOUT_S = 120.0  # the identity service asks every service in turn: longer than one page's call


def _form(portal: Portal, session: Session, status: int = 200, error: str = "", form: Form | None = None) -> Response:
    today = portal.clock.now().date()
    values = {"since": today.replace(month=1, day=1).isoformat(), "until": today.isoformat()}
    values |= {k: one(form, k, 10) for k in ("since", "until") if form and one(form, k, 10)}
    return page(portal, session, "console/evidence.html", status, values=values, error=error or None, scope=SCOPE)


def period(form: Form, today: date) -> tuple[date, date]:
    """The pack's period from the form (whole days, both included); ``ValueError`` with the reason otherwise."""
    try:
        since, until = date.fromisoformat(one(form, "since", 32)), date.fromisoformat(one(form, "until", 32))
    except ValueError:
        raise ValueError("Give the first and the last day of the period (YYYY-MM-DD).") from None
    if since > until:
        raise ValueError("The first day comes after the last one.")
    if until > today:
        raise ValueError("The period ends in the future.")
    if (until - since).days > MAX_DAYS:
        raise ValueError("A pack covers three years at most; ask for several.")
    return since, until


@router.get("/evidence", response_class=HTMLResponse)
async def evidence_page(request: Request, portal: PortalDep) -> Response:
    """The period form and how to verify a pack."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    return _form(portal, session)


@router.post("/evidence")
async def evidence_pack(request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Build the pack for the period and hand it to the browser as it comes (a ZIP download)."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    if one(form, "csrf", 256) != session.csrf:
        return problem(portal, session, 403, "Not allowed", "This form has expired; open the page again.")
    if not session.may(SCOPE):
        return problem(portal, session, 403, "Not allowed", f"Your role does not allow this (it needs {SCOPE}).")
    try:
        since, until = period(form, portal.clock.now().date())
    except ValueError as exc:
        return _form(portal, session, 422, str(exc), form)
    body = {"since": since.isoformat(), "until": until.isoformat()} | (
        {"tenant": session.tenant} if session.tenant else {}
    )
    try:
        answer = await portal.backends.download(
            session.token, "POST", "/v1/evidence-packs", service="identity", json=body, timeout=PACK_TIMEOUT_S
        )
    except BackendError as exc:
        if exc.status in FIXABLE:
            return _form(portal, session, exc.status, exc.detail, form)
        return failed(portal, session, request, exc)
    name = f"evidence-{session.tenant or 'tenant'}-{since.isoformat()}-{until.isoformat()}.zip"
    headers = {
        "Content-Disposition": answer.headers.get("content-disposition") or f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
    }
    headers |= {k: answer.headers[k] for k in ("x-evidence-pack-id", "x-evidence-pack-complete") if k in answer.headers}
    return StreamingResponse(
        answer.aiter_bytes(), media_type="application/zip", headers=headers, background=BackgroundTask(answer.aclose)
    )
