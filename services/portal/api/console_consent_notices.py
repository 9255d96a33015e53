"""The console's consent notices: publishing a new version with its full text, and who was told of a material change.

People are told what they consent to (GDPR Arts. 7(2), 13, https://eur-lex.europa.eu/eli/reg/2016/679/oj):
a material change is sent to everyone whose grant is in force, and asks them to give it again when it
requires renewal. A campaign's page counts the messages by status and lists the people by subject
reference (never an address). Publishing takes ``consent:admin``.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.portal.api.console_consent import _consent_page
from services.portal.api.console_kit import Invalid, failed, one, page, perform, to_login
from services.portal.api.deps import FormDep, PortalDep, Session, session_of
from services.portal.domain import notice_forms as forms
from services.portal.service.backends import BackendError

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
Key = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
Version = Annotated[int, Path(ge=1, le=2**31 - 1)]
STATUSES = ("requested", "sent", "delivered", "failed", "unreachable", "opted_out")


@router.post("/consent/notices", response_class=HTMLResponse)
async def publish(request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Publish a new version of a purpose's notice; a material change starts telling the people concerned."""

    async def send(session: Session) -> None:
        key = one(form, "purpose", 128)
        if not key:
            raise Invalid("Choose the purpose the notice describes.")
        body = forms.notice_version_body(form)
        path = f"/v1/purposes/{quote(key, safe='')}/notices"
        await portal.backends.as_person(session.token, "POST", path, service="consent", json=body)

    async def show(session: Session, status: int, error: str) -> Response:
        return await _consent_page(request, portal, session, status, error)

    return await perform(request, portal, form, "consent:admin", send, "/console/consent", "notice-version", show)


@router.get("/consent/purposes/{key}/notices/{version}", response_class=HTMLResponse)
async def campaign(
    key: Key,
    version: Version,
    request: Request,
    portal: PortalDep,
    after: Annotated[str, Query(max_length=128, pattern=r"^[0-9a-f]*$")] = "",
) -> Response:
    """Who a material change concerned: the counts, and the people by subject reference with their message's status."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    path = f"/v1/purposes/{key}/notices/{version}/campaign"
    params: dict[str, Any] = {"limit": 100} | ({"after": after} if after else {})
    try:
        found, recipients = await asyncio.gather(
            portal.backends.as_person(session.token, "GET", path, service="consent"),
            portal.backends.as_person(session.token, "GET", f"{path}/recipients", service="consent", params=params),
        )
    except BackendError as exc:
        return failed(portal, session, request, exc)
    context = {"campaign": found, "recipients": recipients, "key": key, "version": version, "statuses": STATUSES}
    return page(portal, session, "console/consent_campaign.html", **context)
