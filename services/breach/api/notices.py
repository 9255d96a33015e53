"""Endpoints of notices: draft, read, send (frozen), delivery outcomes and the notify service's claim check."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from services.breach.api.deps import ClaimUow, ReadUow, WriteUow
from services.breach.models import Delivery, Notice
from services.breach.schemas import ClaimOut, DeliveryOut, DeliveryUpdateIn, NoticeIn, NoticeOut, SendIn
from services.breach.service import Uow, deliveries, notices
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.views import from_row

router = APIRouter(prefix="/v1", tags=["notices"], responses=PROBLEM_RESPONSES)


async def notice_out(uow: Uow, notice: Notice) -> NoticeOut:
    """One notice as the API shows it, with its deliveries."""
    return (await _out(uow, notice))[0]


async def _out(uow: Uow, *found: Notice) -> list[NoticeOut]:
    by_notice = await deliveries.deliveries_of(uow, [n.id for n in found])
    result = []
    for notice in found:
        result.append(from_row(NoticeOut, notice, deliveries=[from_row(DeliveryOut, d) for d in by_notice[notice.id]]))
    return result


@router.post("/incidents/{incident_id}/notices", status_code=201, response_model=NoticeOut, summary="Draft a notice")
async def draft_notice(incident_id: uuid.UUID, body: NoticeIn, uow: WriteUow) -> NoticeOut:
    """Draft a notice for the authority (Art. 33(3)), a customer (processor role) or the people (Art. 34)."""
    return (await _out(uow, await notices.draft(uow, incident_id, body)))[0]


@router.get("/incidents/{incident_id}/notices", response_model=list[NoticeOut], summary="Notices of an incident")
async def list_notices(incident_id: uuid.UUID, uow: ReadUow) -> list[NoticeOut]:
    """Drafts and sent notices, oldest first."""
    return await _out(uow, *await notices.notices_of(uow, incident_id))


@router.get("/notices", response_model=list[NoticeOut], summary="The tenant's notices")
async def tenant_notices(
    uow: ReadUow,
    status: Annotated[
        list[Literal["draft", "sent"]] | None,
        Query(max_length=2, description="one or more statuses (repeat the parameter)"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[NoticeOut]:
    """Every incident's notices, oldest first: ``status=draft`` lists what waits for approval across the register."""
    return await _out(uow, *await notices.tenant_notices(uow, list(status or []), limit))


@router.get("/notices/{notice_id}", response_model=NoticeOut, summary="Read a notice")
async def get_notice(notice_id: uuid.UUID, uow: ReadUow) -> NoticeOut:
    """A notice with its deliveries."""
    return (await _out(uow, await notices.get(uow, notice_id)))[0]


@router.post("/notices/{notice_id}/send", response_model=NoticeOut, summary="Send a notice (freezes it)")
async def send_notice(notice_id: uuid.UUID, body: SendIn, uow: WriteUow) -> NoticeOut:
    """Freeze the draft and request its delivery; a notice after its deadline must give the reasons for the delay."""
    return (await _out(uow, await notices.send(uow, notice_id, body.delay_reasons)))[0]


@router.post(
    "/notices/{notice_id}/deliveries/{delivery_id}", response_model=DeliveryOut, summary="Record a delivery outcome"
)
async def update_delivery(
    notice_id: uuid.UUID, delivery_id: uuid.UUID, body: DeliveryUpdateIn, uow: WriteUow
) -> Delivery:
    """Delivered, failed, or submitted (a person confirming an authority portal submission)."""
    return await deliveries.update_delivery(uow, notice_id, delivery_id, body)


@router.get(
    "/notices/{notice_id}/deliveries/{delivery_id}/claim",
    response_model=ClaimOut,
    summary="Claim check for the notify service",
)
async def claim_delivery(notice_id: uuid.UUID, delivery_id: uuid.UUID, uow: ClaimUow) -> ClaimOut:
    """The address, template and values of one delivery (scope notify:claim); 410 when no address is set."""
    return await deliveries.claim(uow, notice_id, delivery_id)
