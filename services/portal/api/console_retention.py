"""The console's retention: policies (and the default pack), legal holds, schedules, and sweeps with their evidence.

Personal data is kept no longer than necessary (storage limitation, GDPR Art. 5(1)(e)); a legal hold
keeps it for the establishment, exercise or defence of legal claims (Art. 17(3)(e))
(https://eur-lex.europa.eu/eli/reg/2016/679/oj). Holds take ``retention:write``; installing the
default pack and sweeping now take ``retention:admin``.
"""

from __future__ import annotations

import asyncio
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
    one,
    page,
    post_form,
    required,
    to_login,
)
from services.portal.api.deps import FormDep, Portal, PortalDep, Session, session_of
from services.portal.service.backends import BackendError

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
HOLD_SCOPES = ("subject_ref", "category", "system", "matter")


async def _retention_page(
    request: Request, portal: Portal, session: Session, status: int = 200, error: str = ""
) -> Response:
    paths = ("/v1/policies", "/v1/holds", "/v1/schedules", "/v1/sweeps")
    try:
        policies, holds, schedules, sweeps = await asyncio.gather(
            *(
                portal.backends.as_person(session.token, "GET", p, service="retention", params={"limit": 100})
                if p in ("/v1/schedules", "/v1/sweeps")
                else portal.backends.as_person(session.token, "GET", p, service="retention")
                for p in paths
            )
        )
    except BackendError as exc:
        return failed(portal, session, request, exc)
    return page(
        portal,
        session,
        "console/retention.html",
        status,
        policies=policies,
        holds=holds,
        schedules=schedules,
        sweeps=sweeps,
        error=error or None,
        notice=None if error else notice_of(request),
    )


@router.get("/retention", response_class=HTMLResponse)
async def retention(request: Request, portal: PortalDep) -> Response:
    """Policies, legal holds, schedules and the sweeps' counted evidence."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    return await _retention_page(request, portal, session)


async def _act(request: Request, portal: Portal, form: Form, scope: str, path: str, body: Body, done: str) -> Response:
    async def show(session: Session, status: int, error: str) -> Response:
        return await _retention_page(request, portal, session, status, error)

    target = ("retention", path)
    return await post_form(request, portal, form, scope, target, body, "/console/retention", done, show)


@router.post("/retention/default-pack", response_class=HTMLResponse)
async def install_default_pack(request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Install the default policy pack (the policies the tenant has for a scope are kept)."""
    return await _act(request, portal, form, "retention:admin", "/v1/policies/default-pack", None, "pack")


@router.post("/retention/holds", response_class=HTMLResponse)
async def place_hold(request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Place a legal hold on a subject reference, a category, a system or a matter."""

    def body(form: Form) -> dict[str, Any]:
        scope = {k: one(form, k, 128) for k in HOLD_SCOPES if one(form, k, 128)}
        if not scope:
            raise Invalid("Say what the hold covers: a subject reference, a category, a system or a matter.")
        return scope | {"reason": required(form, "reason", "the case or matter the data is kept for", 2000)}

    return await _act(request, portal, form, "retention:write", "/v1/holds", body, "held")


@router.post("/retention/holds/{hold_id}/release", response_class=HTMLResponse)
async def release_hold(hold_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Release a legal hold, with the reason; the data's schedules run again."""

    def body(form: Form) -> dict[str, Any]:
        return {"reason": one(form, "reason", 2000) or None}

    return await _act(request, portal, form, "retention:write", f"/v1/holds/{hold_id}/release", body, "released")


@router.post("/retention/sweeps", response_class=HTMLResponse)
async def sweep_now(request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Sweep every system and category now (recorded as asked by the person)."""
    return await _act(request, portal, form, "retention:admin", "/v1/sweeps/run", {}, "swept")
