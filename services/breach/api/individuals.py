"""Endpoints of telling the people affected (GDPR Art. 34): their addresses, the customer's approval,
per-person deliveries, a public communication instead, and the customer's approval link."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path

from services.breach.api.deps import ClaimUow, LinkUow, ReadUow, WriteUow
from services.breach.api.notices import notice_out
from services.breach.models import NoticeApproval
from services.breach.schemas import (
    ApprovalClaimOut,
    ApprovalIn,
    ApprovalOut,
    ContactsIn,
    ContactsOut,
    DecisionIn,
    DeliveriesOut,
    NoticeOut,
    PublicApprovalOut,
    PublicCommunicationIn,
)
from services.breach.service import approvals, contacts, individuals, publication
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1", tags=["notices"], responses=PROBLEM_RESPONSES)
Token = Annotated[str, Path(min_length=16, max_length=600)]


@router.post(
    "/incidents/{incident_id}/affected-contacts",
    response_model=ContactsOut,
    tags=["incidents"],
    summary="Attach people affected with their addresses",
)
async def attach_contacts(incident_id: uuid.UUID, body: ContactsIn, uow: WriteUow) -> ContactsOut:
    """Attach people with an email (and optional name, language) to tell them (Art. 34).

    Each person's subject reference is computed from the email, so it matches the register; the address is
    kept sealed, read only by the notify service, and purged once every delivery ended or the incident closes.
    """
    return await contacts.attach_contacts(uow, incident_id, body.contacts)


@router.post(
    "/notices/{notice_id}/approval-request",
    status_code=201,
    response_model=ApprovalOut,
    summary="Ask the customer to approve a notice to individuals",
)
async def request_approval(notice_id: uuid.UUID, uow: WriteUow) -> NoticeApproval:
    """As processor: mail the customer's notice contact a signed, expiring link to approve or decline the notice."""
    return await approvals.request_approval(uow, notice_id)


@router.post(
    "/notices/{notice_id}/approval",
    status_code=201,
    response_model=ApprovalOut,
    summary="Record the customer's approval received by other means",
)
async def record_approval(notice_id: uuid.UUID, body: ApprovalIn, uow: WriteUow) -> NoticeApproval:
    """As processor: who approved (or declined, with the reason) for the customer, when, and how it reached us.

    As controller no approval is recorded: sending the notice is the DPO's own decision (422).
    """
    return await approvals.record(uow, notice_id, body)


@router.get("/notices/{notice_id}/approvals", response_model=list[ApprovalOut], summary="Approvals of a notice")
async def list_approvals(notice_id: uuid.UUID, uow: ReadUow) -> list[NoticeApproval]:
    """Every approval asked for or recorded, oldest first, with the link mail's status."""
    return await approvals.approvals_of(uow, notice_id)


@router.get("/notices/{notice_id}/deliveries", response_model=DeliveriesOut, summary="Deliveries of a notice")
async def list_deliveries(notice_id: uuid.UUID, uow: ReadUow) -> DeliveriesOut:
    """Each delivery (one per person for a notice to individuals) and how many are in each status."""
    return await individuals.deliveries(uow, notice_id)


@router.post(
    "/notices/{notice_id}/public-communication",
    response_model=NoticeOut,
    summary="Record a public communication instead (Art. 34(3)(c))",
)
async def record_public_communication(notice_id: uuid.UUID, body: PublicCommunicationIn, uow: WriteUow) -> NoticeOut:
    """Where telling each person would involve disproportionate effort: where, when, what and why.

    A draft notice to individuals then counts as sent; on a sent one it covers the people the mail did not reach.
    """
    return await notice_out(uow, await publication.record(uow, notice_id, body))


@router.get(
    "/notice-approvals/{approval_id}/claim",
    response_model=ApprovalClaimOut,
    summary="Claim check of an approval link's mail (notify service)",
)
async def claim_approval_mail(approval_id: uuid.UUID, uow: ClaimUow) -> ApprovalClaimOut:
    """The customer contact's address and the link (scope notify:claim); 410 once decided or expired."""
    return await approvals.claim(uow, approval_id)


@router.get(
    "/public/notice-approvals/{token}",
    response_model=PublicApprovalOut,
    tags=["approval link"],
    summary="The notice behind a customer's approval link",
)
async def view_by_link(token: Token, link: LinkUow) -> PublicApprovalOut:
    """No bearer token: the signed link is the credential (404 when wrong, 410 once expired); the notice in each
    language and where its approval stands."""
    return await approvals.public_view(link, token)


@router.post(
    "/public/notice-approvals/{token}",
    response_model=PublicApprovalOut,
    tags=["approval link"],
    summary="Approve or decline at the customer's link",
)
async def decide_by_link(token: Token, body: DecisionIn, link: LinkUow) -> PublicApprovalOut:
    """Approve, or decline with the reason, naming who decides; once, before the link expires (410 after)."""
    return await approvals.public_decide(link, token, body)
