"""The console's notices to the people a breach affected, on the incident's page: their addresses, the customer's
approval (as processor), the deliveries, and a public communication instead.

A breach likely to result in a high risk is told to the people without undue delay (GDPR Art. 34(1)),
or by a public communication where telling each would involve disproportionate effort (Art. 34(3)(c),
https://eur-lex.europa.eu/eli/reg/2016/679/oj). A processor sends the notice on its customer's behalf
once the customer approved it. Acting takes ``breach:write``.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.portal.api.console_breaches import _incident_page
from services.portal.api.console_kit import Body, Form, post_form
from services.portal.api.deps import FormDep, Portal, PortalDep, Session
from services.portal.domain import notice_forms as forms

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
SCOPE = "breach:write"


async def _on_incident(
    request: Request, portal: Portal, form: Form, incident_id: uuid.UUID, path: str, body: Body, done: str
) -> Response:
    async def show(session: Session, status: int, error: str) -> Response:
        return await _incident_page(request, portal, session, incident_id, status, error)

    back = f"/console/breaches/{incident_id}"
    return await post_form(request, portal, form, SCOPE, ("breach", path), body, back, done, show)


@router.post("/breaches/{incident_id}/affected-contacts", response_class=HTMLResponse)
async def add_people(incident_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Attach people with their address (pasted CSV lines ``email,name,locale``); the service keeps them sealed."""
    path = f"/v1/incidents/{incident_id}/affected-contacts"
    return await _on_incident(request, portal, form, incident_id, path, forms.contacts_body, "people")


@router.post("/breaches/{incident_id}/notices/{notice_id}/approval-request", response_class=HTMLResponse)
async def ask_approval(
    incident_id: uuid.UUID, notice_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep
) -> Response:
    """Mail the customer's notice contact a signed, expiring link to approve or decline the notice."""
    path = f"/v1/notices/{notice_id}/approval-request"
    return await _on_incident(request, portal, form, incident_id, path, None, "approval-asked")


@router.post("/breaches/{incident_id}/notices/{notice_id}/approval", response_class=HTMLResponse)
async def record_approval(
    incident_id: uuid.UUID, notice_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep
) -> Response:
    """The customer's answer received by other means: who, how, when, and why if declined."""
    path = f"/v1/notices/{notice_id}/approval"
    return await _on_incident(request, portal, form, incident_id, path, forms.approval_body, "approval")


@router.post("/breaches/{incident_id}/notices/{notice_id}/public-communication", response_class=HTMLResponse)
async def public_communication(
    incident_id: uuid.UUID, notice_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep
) -> Response:
    """A public communication made instead of telling each person (or for those the mail did not reach)."""
    path = f"/v1/notices/{notice_id}/public-communication"
    return await _on_incident(request, portal, form, incident_id, path, forms.public_communication_body, "published")
