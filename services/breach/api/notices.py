"""Endpoints of notices: draft, read, send (frozen), delivery outcomes and the sender's claim check."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from services.breach.api.incidents import Reader, SettingsDep, Writer
from services.breach.models import Delivery, Notice
from services.breach.schemas import DeliveryOut, DeliveryUpdateIn, NoticeIn, NoticeOut, SendIn
from services.breach.service import notices
from shared.runtime.auth import Principal, require
from shared.runtime.db import SessionDep
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.service import ClockDep

router = APIRouter(prefix="/v1", tags=["notices"], responses=PROBLEM_RESPONSES)


async def _out(session: SessionDep, *found: Notice) -> list[NoticeOut]:
    deliveries = await notices.deliveries_of(session, [n.id for n in found])
    result = []
    for notice in found:
        out = NoticeOut.model_validate(notice)
        out.deliveries = [DeliveryOut.model_validate(d) for d in deliveries[notice.id]]
        result.append(out)
    return result


@router.post("/incidents/{incident_id}/notices", status_code=201, response_model=NoticeOut, summary="Draft a notice")
async def draft_notice(
    incident_id: uuid.UUID,
    body: NoticeIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Writer,
    settings: SettingsDep,
) -> NoticeOut:
    """Draft a notice for the authority (Art. 33(3)), a customer (processor role) or the people (Art. 34)."""
    notice = await notices.draft(session, incident_id, body, principal=principal, clock=clock, settings=settings)
    return (await _out(session, notice))[0]


@router.get("/incidents/{incident_id}/notices", response_model=list[NoticeOut], summary="Notices of an incident")
async def list_notices(incident_id: uuid.UUID, session: SessionDep, principal: Reader) -> list[NoticeOut]:
    """Drafts and sent notices, oldest first."""
    return await _out(session, *await notices.notices_of(session, principal.tenant_id, incident_id))


@router.get("/notices/{notice_id}", response_model=NoticeOut, summary="Read a notice")
async def get_notice(notice_id: uuid.UUID, session: SessionDep, principal: Reader) -> NoticeOut:
    """A notice with its deliveries."""
    return (await _out(session, await notices.load_notice(session, principal.tenant_id, notice_id)))[0]


@router.post("/notices/{notice_id}/send", response_model=NoticeOut, summary="Send a notice (freezes it)")
async def send_notice(
    notice_id: uuid.UUID,
    body: SendIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Writer,
    settings: SettingsDep,
) -> NoticeOut:
    """Freeze the draft and request its delivery; a notice after its deadline must give the reasons for the delay."""
    notice = await notices.send(
        session, notice_id, body.delay_reasons, principal=principal, clock=clock, settings=settings
    )
    return (await _out(session, notice))[0]


@router.post(
    "/notices/{notice_id}/deliveries/{delivery_id}", response_model=DeliveryOut, summary="Record a delivery outcome"
)
async def update_delivery(
    notice_id: uuid.UUID,
    delivery_id: uuid.UUID,
    body: DeliveryUpdateIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Writer,
) -> Delivery:
    """Delivered, failed, or submitted (a person confirming an authority portal submission)."""
    return await notices.update_delivery(session, notice_id, delivery_id, body, principal=principal, clock=clock)


@router.get("/notices/{notice_id}/deliveries/{delivery_id}/claim", summary="Claim check for the notification sender")
async def claim_delivery(
    notice_id: uuid.UUID,
    delivery_id: uuid.UUID,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("breach:read"))],
) -> dict[str, Any]:
    """The message behind a notification event; the sender resolves the address from the recipient reference."""
    notice = await notices.load_notice(session, principal.tenant_id, notice_id)
    delivery = await notices.load_delivery(session, notice, delivery_id)
    return {
        "notification_id": str(delivery.id),
        "recipient_ref": delivery.recipient_ref,
        "channel": delivery.channel,
        "subject": f"Personal data breach {notice.kind} notice ({notice.stage})",
        "body": notice.body,
    }
