"""Routes for rights requests: intake, verification, deadlines, refusal, results."""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import AwareDatetime, StringConstraints

from services.dsar.api.deps import AdminUow, ReadUow, WriteUow
from services.dsar.domain import Correction, RequestDetails
from services.dsar.schemas import (
    CancelIn,
    CertificateOut,
    CodeIn,
    ExtensionIn,
    LinkOut,
    ManualVerificationIn,
    MessageOut,
    RefusalIn,
    RequestIn,
    RequestOut,
    TaskOut,
)
from services.dsar.service import lifecycle, packages, verification
from services.dsar.service.certificates import certificate_of
from services.dsar.service.notifications import messages_of, subject_email
from services.dsar.service.presenters import present, present_many, tasks_out
from services.dsar.service.requests import (
    Intake,
    RequestOrder,
    RequestQuery,
    get_request,
    list_requests,
    submit_request,
)
from services.dsar.service.tasks import list_tasks
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.signing import document_signer

router = APIRouter(prefix="/v1/requests", tags=["requests"], responses=PROBLEM_RESPONSES)

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=255, description="Retrying with the same key returns the same request"),
]


def _body_hash(body: RequestIn) -> str:
    # Fields left empty are not hashed: a retried key still matches the hash made before they existed.
    unset: dict[str, Any] = {name: True for name in ("locale", "received_at") if getattr(body, name) is None}
    if body.details.target_endpoint is None:
        unset["details"] = {"target_endpoint": True}
    return hashlib.sha256(body.model_dump_json(exclude=unset or None).encode()).hexdigest()


def _intake(body: RequestIn) -> Intake:
    details = RequestDetails(
        corrections=tuple(Correction(c.field, c.new_value) for c in body.details.corrections),
        purposes=tuple(body.details.purposes),
        target_controller=body.details.target_controller,
        target_endpoint=body.details.target_endpoint,
    )
    agent = body.authorised_agent
    return Intake(
        request_type=body.type,
        regime_id=body.jurisdiction,
        identifiers=[(i.kind, i.value) for i in body.identifiers],
        details=details,
        channel=body.channel,
        received_at=body.received_at,
        agent_name=agent.name if agent else None,
        agent_evidence_ref=agent.evidence_ref if agent else None,
        verification=body.verification,
        locale=body.locale,
        body_hash=_body_hash(body),
    )


@router.post(
    "",
    status_code=201,
    response_model=RequestOut,
    summary="Open a rights request",
    responses={
        200: {"model": RequestOut, "description": "Sent again with the same Idempotency-Key: the request it opened"}
    },
)
async def open_request(body: RequestIn, response: Response, uow: WriteUow, key: IdempotencyKey = None) -> RequestOut:
    """Record the request, start its legal clock and send the verification code to the subject's email.

    A retry with the same `Idempotency-Key` returns the same request (200); the same key with another
    body is refused (422).
    """
    request, created = await submit_request(uow, _intake(body), key)
    if not created:
        response.status_code = 200
    elif body.verification == "email_code" and subject_email(uow, request) is not None:
        await verification.send_code(uow, request)
    return await present(uow, request)


@router.get("", response_model=list[RequestOut], summary="List rights requests")
async def list_all(
    uow: ReadUow,
    state: Annotated[
        list[Annotated[str, StringConstraints(max_length=32)]] | None,
        Query(max_length=16, description="one or more states (repeat the parameter)"),
    ] = None,
    subject_ref: Annotated[str | None, Query(max_length=64)] = None,
    type: Annotated[
        list[Annotated[str, StringConstraints(max_length=32)]] | None,
        Query(max_length=8, description="one or more request types (repeat the parameter)"),
    ] = None,
    jurisdiction: Annotated[
        list[Annotated[str, StringConstraints(max_length=32)]] | None,
        Query(max_length=16, description="one or more jurisdictions (repeat the parameter)"),
    ] = None,
    due_before: Annotated[
        AwareDatetime | None, Query(description="only requests due before this instant, the most urgent first")
    ] = None,
    order: Annotated[
        RequestOrder | None,
        Query(
            description="received: newest first (the default); due: open requests first, the soonest due first "
            "(the default with `due_before`); type, state: by type or state, then the soonest due"
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="requests to skip: the next page")] = 0,
) -> list[RequestOut]:
    """The tenant's requests, newest first; ``state``, ``type`` and ``jurisdiction`` may be repeated (any of them).

    ``due_before`` lists what falls due by then, ordered by due date (overdue first), so a dashboard's
    "due this week" is complete however many requests are open. Every filter and order is applied
    by the service, so pages (``offset``) neither repeat nor skip a request.
    """
    query = RequestQuery(
        states=state or [],
        subject_ref=subject_ref,
        types=type or [],
        jurisdictions=jurisdiction or [],
        due_before=due_before,
        order=order,
        limit=limit,
        offset=offset,
    )
    return await present_many(uow, await list_requests(uow, query))


@router.get("/{request_id}", response_model=RequestOut, summary="Read one rights request")
async def read(request_id: uuid.UUID, uow: ReadUow) -> RequestOut:
    """A request with its clock, verification state and results (never the identifiers)."""
    return await present(uow, await get_request(uow, request_id))


@router.post("/{request_id}/verification/code", response_model=RequestOut, summary="Send a new one-time code")
async def send_code(request_id: uuid.UUID, uow: WriteUow) -> RequestOut:
    """Email a fresh code to the subject (the previous one stops working)."""
    request = await get_request(uow, request_id, for_update=True)
    await verification.send_code(uow, request)
    return await present(uow, request)


@router.post("/{request_id}/verification/confirm", response_model=RequestOut, summary="Confirm the one-time code")
async def confirm_code(request_id: uuid.UUID, body: CodeIn, request: Request, uow: WriteUow) -> RequestOut:
    """The subject's code: right → verified and fanned out; wrong → 422 with the attempts left."""
    verified = await verification.confirm_code(uow, request.app.state.database, request_id, body.code)
    return await present(uow, verified)


@router.post("/{request_id}/verification/manual", response_model=RequestOut, summary="Verify identity manually")
async def verify_manually(request_id: uuid.UUID, body: ManualVerificationIn, uow: AdminUow) -> RequestOut:
    """An operator records the evidence of identity they checked; the request fans out."""
    return await present(uow, await verification.verify_manually(uow, request_id, body.evidence_ref, body.note))


@router.post("/{request_id}/extension", response_model=RequestOut, summary="Extend the deadline once")
async def extend(request_id: uuid.UUID, body: ExtensionIn, uow: AdminUow) -> RequestOut:
    """Apply the regime's single extension; the reasons are emailed to the subject before the first deadline."""
    return await present(uow, await lifecycle.extend(uow, request_id, body.reasons, body.reasons_sent_at))


@router.post("/{request_id}/refusal", response_model=RequestOut, summary="Refuse the request")
async def refuse(request_id: uuid.UUID, body: RefusalIn, uow: AdminUow) -> RequestOut:
    """Refuse with grounds and reasons; the subject is told of the right to complain to the authority."""
    return await present(uow, await lifecycle.refuse(uow, request_id, body.grounds, body.reasons))


@router.post("/{request_id}/cancel", response_model=RequestOut, summary="Withdraw the request")
async def cancel(request_id: uuid.UUID, body: CancelIn, uow: WriteUow) -> RequestOut:
    """The subject withdrew the request; open tasks are cancelled and the identifiers purged."""
    return await present(uow, await lifecycle.cancel(uow, request_id, body.reason))


@router.get("/{request_id}/tasks", response_model=list[TaskOut], summary="The request's tasks, one per system")
async def tasks(request_id: uuid.UUID, uow: ReadUow) -> list[TaskOut]:
    """Every (system × action) task with its attempts, acknowledgement and outcome, and who closed it by hand."""
    return await tasks_out(uow, await list_tasks(uow, request_id))


@router.get("/{request_id}/messages", response_model=list[MessageOut], summary="The messages sent to the subject")
async def messages(request_id: uuid.UUID, uow: ReadUow) -> list[MessageOut]:
    """Every message about the request (code, acknowledgement, extension, answer) and its delivery state."""
    return await messages_of(uow, request_id)


@router.get("/{request_id}/certificate", response_model=CertificateOut, summary="The certificate of erasure")
async def certificate(request_id: uuid.UUID, uow: ReadUow) -> CertificateOut:
    """The signed certificate of a completed erasure."""
    cert = await certificate_of(uow, request_id)
    return CertificateOut.of(cert, document_signer(uow.settings).jwks_url(uow.tenant_id))


@router.post("/{request_id}/package-link", response_model=LinkOut, summary="A fresh download link")
async def package_link(request_id: uuid.UUID, uow: AdminUow) -> LinkOut:
    """Issue a new expiring link to the access package (the previous link stops working)."""
    url, expires_at = await packages.new_link(uow, request_id)
    return LinkOut(url=url, expires_at=expires_at)
