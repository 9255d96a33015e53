"""The published subprocessor list, its Atom feed, and a customer's page to answer a change notice.

A processor must inform its customers of an intended change of subprocessor and give them the
opportunity to object (GDPR Art. 28(2), https://eur-lex.europa.eu/eli/reg/2016/679/oj). The notice
mail links to ``/p/{tenant}/notices/{id}?token=…``: the token the notice carries is the customer's
only credential, and the subprocessor service checks it on every read and answer.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response

from services.portal.api.center.common import (
    brand_of,
    form_page,
    from_this_site,
    link_token,
    one,
    page,
    problem_page,
    refused,
    router,
    uuid_or_404,
)
from services.portal.api.deps import FormDep, Portal, PortalDep
from services.portal.service import center as backends
from services.portal.service.backends import BackendError
from services.portal.service.center import Brand

NoticeToken = Annotated[str, Query(max_length=1024)]
WRONG_LINK = "This link does not open a notice. Check that you copied all of it from the email."
REASON_LIMIT = 4000


@router.get("/subprocessors", response_class=HTMLResponse)
async def subprocessors(tenant: str, portal: PortalDep) -> Response:
    """The published subprocessor list, with locations and transfer mechanisms, and its Atom feed."""
    try:
        brand = await brand_of(portal, tenant)
        try:
            published = await portal.backends.subprocessors(tenant)
        except BackendError as exc:
            if exc.status != 404:
                raise
            published = {"subprocessors": [], "updated_at": None}
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    feed = f"/p/{tenant}/subprocessors.atom"
    return page(portal, tenant, "center/subprocessors.html", brand=brand, published=published, feed=feed)


@router.get("/subprocessors.atom")
async def change_feed(tenant: str, portal: PortalDep) -> Response:
    """The Atom feed of the tenant's subprocessor changes, relayed from the subprocessor service."""
    try:
        await brand_of(portal, tenant)
        feed = await backends.change_feed(portal.backends, tenant)
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    return Response(feed, media_type="application/atom+xml", headers={"Cache-Control": "max-age=300"})


async def _notice(portal: Portal, tenant: str, notice_id: str, token: str) -> dict[str, Any]:
    """The notice the token opens, when it is one of this tenant's (a 404 otherwise)."""
    try:
        found = await backends.notice(
            portal.backends, uuid_or_404(notice_id, WRONG_LINK), link_token(token, WRONG_LINK, 8)
        )
    except BackendError as exc:
        if exc.status in (400, 401, 403, 404, 422):
            raise BackendError(404, WRONG_LINK) from exc
        raise
    if found.get("tenant") not in (None, tenant):
        raise BackendError(404, WRONG_LINK)
    return found


def _notice_page(
    portal: Portal,
    request: Request,
    tenant: str,
    brand: Brand,
    notice: dict[str, Any],
    token: str,
    status: int = 200,
    **context: Any,
) -> Response:
    return form_page(
        portal, request, tenant, "center/notice.html", status, brand=brand, notice=notice, token=token, **context
    )


@router.get("/notices/{notice_id}", response_class=HTMLResponse)
async def notice_page(
    tenant: str, notice_id: str, request: Request, portal: PortalDep, token: NoticeToken = ""
) -> Response:
    """The change, the end of the customer's window, and the buttons to acknowledge it or object."""
    try:
        brand = await brand_of(portal, tenant)
        found = await _notice(portal, tenant, notice_id, token)
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    return _notice_page(portal, request, tenant, brand, found, token)


async def _answer(
    tenant: str, notice_id: str, form: dict[str, list[str]], request: Request, portal: Portal, answer: str
) -> Response:
    """Acknowledge the notice or object to its change, then the confirmation page; a bad form changes nothing."""
    token = one(form, "token", 256)
    try:
        brand = await brand_of(portal, tenant)
        if not from_this_site(request, portal, form):
            return refused(portal, tenant, brand)
        found = await _notice(portal, tenant, notice_id, token)
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    reason = (form.get("reason") or [""])[0].strip()
    try:
        if answer == "objection":
            if not reason or len(reason) > REASON_LIMIT:
                errors = {"reason": f"Tell us why you object, in at most {REASON_LIMIT} characters."}
                return _notice_page(portal, request, tenant, brand, found, token, 422, errors=errors, reason=reason)
            await backends.object_to(portal.backends, uuid.UUID(str(found["notice_id"])), token, reason)
        else:
            await backends.acknowledge(portal.backends, uuid.UUID(str(found["notice_id"])), token)
    except BackendError as exc:
        if exc.status not in (400, 409, 410, 422):
            return problem_page(portal, tenant, exc, brand)
        errors = {"form": exc.detail}
        return _notice_page(portal, request, tenant, brand, found, token, 422, errors=errors, reason=reason)
    return page(portal, tenant, "center/notice_done.html", brand=brand, notice=found, answer=answer, token=token)


@router.post("/notices/{notice_id}/acknowledgement", response_class=HTMLResponse)
async def acknowledge(tenant: str, notice_id: str, form: FormDep, request: Request, portal: PortalDep) -> Response:
    """The customer confirms it received the notice."""
    return await _answer(tenant, notice_id, form, request, portal, "acknowledgement")


@router.post("/notices/{notice_id}/objection", response_class=HTMLResponse)
async def object_to(tenant: str, notice_id: str, form: FormDep, request: Request, portal: PortalDep) -> Response:
    """The customer objects to the change, with its reason, within its window."""
    return await _answer(tenant, notice_id, form, request, portal, "objection")
