"""Routes of change proposals, their notices, objections and resolutions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import StringConstraints

from services.subprocessor.api.deps import ClaimUow, ReadUow, WriteUow
from services.subprocessor.models import ChangeNotice, Objection, SubprocessorChange
from services.subprocessor.schemas import (
    CancelIn,
    ChangeIn,
    ChangeOut,
    NoticeOut,
    NotificationClaimOut,
    ObjectionIn,
    ObjectionOut,
    ResolutionIn,
)
from services.subprocessor.service import changes as service
from services.subprocessor.service import demand_notices
from services.subprocessor.service import notices as notice_service
from services.subprocessor.service import objections as objection_service
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.repository import get_or_404

router = APIRouter(prefix="/v1", tags=["changes"], responses=PROBLEM_RESPONSES)


@router.post("/changes", status_code=201, response_model=ChangeOut, summary="Propose a subprocessor change")
async def propose_change(body: ChangeIn, uow: WriteUow) -> ChangeOut:
    """Propose a change; every affected customer gets a notice (webhook and email, delivered by a job)."""
    return await service.change_view(uow, await service.propose_change(uow, body))


@router.get("/changes", response_model=list[ChangeOut], summary="List changes")
async def list_changes(
    uow: ReadUow,
    state: Annotated[
        list[Annotated[str, StringConstraints(max_length=32)]] | None,
        Query(max_length=8, description="one or more states (repeat the parameter)"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ChangeOut]:
    """The tenant's changes, newest first, with their notices and objections; ``state`` may be repeated."""
    return await service.list_changes(uow, state or [], limit)


@router.get("/changes/{change_id}", response_model=ChangeOut, summary="Read a change")
async def get_change(change_id: uuid.UUID, uow: ReadUow) -> ChangeOut:
    """A change with every notice's delivery history, the objections, and what still blocks it."""
    return await service.change_view(uow, await get_or_404(uow, SubprocessorChange, change_id))


@router.post("/changes/{change_id}/cancel", response_model=ChangeOut, summary="Cancel a change")
async def cancel_change(change_id: uuid.UUID, body: CancelIn, uow: WriteUow) -> ChangeOut:
    """Cancel a change that has not taken effect; pending deliveries stop."""
    change = await get_or_404(uow, SubprocessorChange, change_id, lock=True)
    await service.cancel(uow, change, body.reason, cause="processor")
    return await service.change_view(uow, change)


@router.post(
    "/changes/{change_id}/objections", status_code=201, response_model=ObjectionOut, summary="Record an objection"
)
async def record_objection(change_id: uuid.UUID, body: ObjectionIn, uow: WriteUow) -> Objection:
    """Record a customer's objection received by other means; refused after its window or if not affected."""
    return await objection_service.record_objection(uow, change_id, body.customer_id, body.reason, via="api")


@router.post(
    "/changes/{change_id}/objections/{objection_id}/resolution",
    response_model=ObjectionOut,
    summary="Resolve an objection",
)
async def resolve_objection(
    change_id: uuid.UUID, objection_id: uuid.UUID, body: ResolutionIn, uow: WriteUow
) -> Objection:
    """Withdrawn, change cancelled, alternative arranged, or contract terminated — recorded once."""
    return await objection_service.resolve(uow, change_id, objection_id, body.resolution, body.note)


@router.get("/notices/{notice_id}", response_model=NoticeOut, summary="Read a notice and its proof of delivery")
async def get_notice(notice_id: uuid.UUID, uow: ReadUow) -> NoticeOut:
    """A notice with its delivery attempts, email requests and acknowledgement."""
    return await notice_service.notice_view(uow, await get_or_404(uow, ChangeNotice, notice_id))


@router.get(
    "/notifications/{notification_id}",
    response_model=NotificationClaimOut,
    summary="Claim a notice or demand email (for the notify service)",
)
async def claim_notification(notification_id: uuid.UUID, uow: ClaimUow) -> NotificationClaimOut:
    """The address, template and values behind a NotificationRequested event (scope notify:claim): a change
    notice's email or an authority demand's."""
    claimed = await demand_notices.claim_notification(uow, notification_id)
    return claimed or await notice_service.claim_notification(uow, notification_id)
