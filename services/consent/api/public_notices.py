"""Public notices: each purpose's text in force and its history, the banner, and unsubscribing (no token).

The path names the tenant. ``Accept: text/html`` or ``text/plain`` on a version gives the text
itself; anything else gets JSON.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from services.consent.api.deps import PublicUow
from services.consent.api.pages import text_page, unsubscribe_page
from services.consent.schemas.notices import (
    BannerOut,
    PublicHistoryOut,
    PublicNoticesOut,
    PublicTextOut,
    UnsubscribeOut,
)
from services.consent.service import Uow, public_notices, unsubscribe
from shared.rules.errors import NotFound
from shared.runtime.auth import TENANT_PATTERN
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/public/tenants/{tenant}", tags=["public notices"], responses=PROBLEM_RESPONSES)
AS_TEXT: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/html": {"schema": {"type": "string"}}, "text/plain": {"schema": {"type": "string"}}},
        "description": "The version (its text alone with Accept: text/html or text/plain)",
    }
}
Version = Annotated[int, Path(ge=1, le=2**31 - 1, description="The notice version")]
Token = Annotated[str | None, Query(max_length=300, description="The token the message's link carries")]


def _tenant(link: Uow, tenant: str) -> Uow:
    if not TENANT_PATTERN.match(tenant):
        raise NotFound("No published notices.")
    return link.for_tenant(tenant)


def _wants(request: Request, media_type: str) -> bool:
    return media_type in request.headers.get("accept", "")


@router.get("/notices", response_model=PublicNoticesOut, summary="A tenant's published notices")
async def list_notices(tenant: str, link: PublicUow) -> PublicNoticesOut:
    """Every purpose with a published notice and its version in force (404 when there is none)."""
    return await public_notices.tenant_notices(_tenant(link, tenant))


@router.get("/notices/{purpose}", response_model=PublicHistoryOut, summary="Every version of a purpose's notice")
async def notice_history(tenant: str, purpose: str, link: PublicUow) -> PublicHistoryOut:
    """The published versions of one purpose's notice, newest first; earlier texts stay readable."""
    return await public_notices.purpose_history(_tenant(link, tenant), purpose)


@router.get(
    "/notices/{purpose}/versions/{version}",
    response_model=PublicTextOut,
    summary="The text of one notice version",
    responses=AS_TEXT,
)
async def notice_text(tenant: str, purpose: str, version: Version, request: Request, link: PublicUow) -> Any:
    """One version with its text; HTML or plain text by ``Accept`` (404 when only its hash was published)."""
    found = await public_notices.version_text(_tenant(link, tenant), purpose, version)
    if _wants(request, "text/html") or _wants(request, "text/plain"):
        if found.text is None:
            raise NotFound(f"Version {version} was published by its hash only; its text is at its url.")
        if _wants(request, "text/html"):
            return HTMLResponse(text_page(found))
        return PlainTextResponse(found.text)
    return found


@router.get("/banner", response_model=BannerOut, summary="Material notice changes to announce now")
async def get_banner(tenant: str, link: PublicUow) -> BannerOut:
    """The newest material change of each purpose published within the display window (empty list when none)."""
    return await public_notices.banner(_tenant(link, tenant))


@router.get(
    "/unsubscribe",
    response_model=UnsubscribeOut,
    summary="Stop informational notice messages (the page behind the link)",
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)
async def unsubscribe_form(tenant: str, request: Request, link: PublicUow, token: Token = None) -> Response | Any:
    """What the link does, and a button that does it (a GET changes nothing: mail scanners follow links)."""
    answer = await unsubscribe.preview(_tenant(link, tenant), token)
    if _wants(request, "text/html"):
        return HTMLResponse(unsubscribe_page(answer, request.url.path, token or "", done=False))
    return answer


@router.post(
    "/unsubscribe",
    response_model=UnsubscribeOut,
    summary="Stop informational notice messages",
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)
async def unsubscribe_now(tenant: str, request: Request, link: PublicUow, token: Token = None) -> Response | Any:
    """Record the opt-out (one-click, RFC 8058); a message asking for fresh consent still comes."""
    answer = await unsubscribe.opt_out(_tenant(link, tenant), token)
    if _wants(request, "text/html"):
        return HTMLResponse(unsubscribe_page(answer, request.url.path, token or "", done=True))
    return answer
