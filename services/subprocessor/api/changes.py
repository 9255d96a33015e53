"""Routes of change proposals, their notices, objections and resolutions."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlmodel import col, select

from services.subprocessor.api.deps import Reader, SettingsDep, Writer
from services.subprocessor.models import Objection, SubprocessorChange
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
from services.subprocessor.service import notices as notice_service
from services.subprocessor.service import objections as objection_service
from services.subprocessor.service.register import get_customer
from shared.runtime.db import SessionDep
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.service import ClockDep

router = APIRouter(prefix="/v1", tags=["changes"], responses=PROBLEM_RESPONSES)


@router.post("/changes", status_code=201, response_model=ChangeOut, summary="Propose a subprocessor change")
async def propose_change(
    body: ChangeIn, session: SessionDep, clock: ClockDep, principal: Writer, settings: SettingsDep
) -> ChangeOut:
    """Propose a change; every affected customer gets a notice (webhook and email, delivered by a job)."""
    change = await service.propose_change(session, body, principal, clock, settings)
    return await service.change_view(session, change, clock)


@router.get("/changes", response_model=list[ChangeOut], summary="List changes")
async def list_changes(
    session: SessionDep,
    clock: ClockDep,
    principal: Reader,
    state: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ChangeOut]:
    """The tenant's changes, newest first, with their notices and objections."""
    statement = select(SubprocessorChange).where(col(SubprocessorChange.tenant_id) == principal.tenant_id)
    if state:
        statement = statement.where(col(SubprocessorChange.state) == state)
    rows = await session.exec(statement.order_by(col(SubprocessorChange.proposed_at).desc()).limit(limit))
    return [await service.change_view(session, change, clock) for change in rows.all()]


@router.get("/changes/{change_id}", response_model=ChangeOut, summary="Read a change")
async def get_change(change_id: uuid.UUID, session: SessionDep, clock: ClockDep, principal: Reader) -> ChangeOut:
    """A change with every notice's delivery history, the objections, and what still blocks it."""
    return await service.change_view(session, await service.get_change(session, principal.tenant_id, change_id), clock)


@router.post("/changes/{change_id}/cancel", response_model=ChangeOut, summary="Cancel a change")
async def cancel_change(
    change_id: uuid.UUID, body: CancelIn, session: SessionDep, clock: ClockDep, principal: Writer, settings: SettingsDep
) -> ChangeOut:
    """Cancel a change that has not taken effect; pending deliveries stop."""
    change = await service.get_change(session, principal.tenant_id, change_id, lock=True)
    await service.cancel(
        session, change, body.reason, cause="processor", actor=principal.subject, clock=clock, settings=settings
    )
    return await service.change_view(session, change, clock)


@router.post(
    "/changes/{change_id}/objections", status_code=201, response_model=ObjectionOut, summary="Record an objection"
)
async def record_objection(
    change_id: uuid.UUID,
    body: ObjectionIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Writer,
    settings: SettingsDep,
) -> Objection:
    """Record a customer's objection received by other means; refused after its window or if not affected."""
    change = await service.get_change(session, principal.tenant_id, change_id, lock=True)
    customer = await get_customer(session, principal.tenant_id, body.customer_id)
    return await objection_service.object_to_change(
        session, change, customer.id, body.reason, via="api", actor=principal.subject, clock=clock, settings=settings
    )


@router.post(
    "/changes/{change_id}/objections/{objection_id}/resolution",
    response_model=ObjectionOut,
    summary="Resolve an objection",
)
async def resolve_objection(
    change_id: uuid.UUID,
    objection_id: uuid.UUID,
    body: ResolutionIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Writer,
    settings: SettingsDep,
) -> Objection:
    """Withdrawn, change cancelled, alternative arranged, or contract terminated — recorded once."""
    change = await service.get_change(session, principal.tenant_id, change_id, lock=True)
    return await objection_service.resolve(
        session,
        change,
        objection_id,
        body.resolution,
        body.note,
        actor=principal.subject,
        clock=clock,
        settings=settings,
    )


@router.get("/notices/{notice_id}", response_model=NoticeOut, summary="Read a notice and its proof of delivery")
async def get_notice(notice_id: uuid.UUID, session: SessionDep, principal: Reader) -> NoticeOut:
    """A notice with its delivery attempts, email requests and acknowledgement."""
    return await notice_service.notice_view(
        session, await notice_service.get_notice(session, principal.tenant_id, notice_id)
    )


@router.get(
    "/notifications/{notification_id}",
    response_model=NotificationClaimOut,
    summary="Claim a notice email (for the notification sender)",
)
async def claim_notification(
    notification_id: uuid.UUID, session: SessionDep, principal: Reader, settings: SettingsDep
) -> dict[str, Any]:
    """The address and message behind a NotificationRequested event (claim check; the bus never carries them)."""
    return await notice_service.claim_notification(session, principal.tenant_id, notification_id, settings)
