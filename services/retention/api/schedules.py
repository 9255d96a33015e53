"""Subject-level schedules, the account-closure intake and the system registry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from sqlmodel import col, select

from services.retention.api.deps import Reader, SettingsDep, Writer
from services.retention.domain import ClockStart, DataCategory
from services.retention.models import SubjectSchedule
from services.retention.schemas import AccountClosedIn, ScheduleOut, SystemIn, SystemOut
from services.retention.service import registry
from services.retention.service.schedules import ScheduleRequest, open_schedule, schedule_subject
from shared.rules.clock import ensure_utc
from shared.rules.errors import Unprocessable
from shared.runtime.db import SessionDep
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.service import ClockDep

router = APIRouter(prefix="/v1", responses=PROBLEM_RESPONSES)


@router.get("/schedules", response_model=list[ScheduleOut], tags=["schedules"], summary="List subject schedules")
async def list_schedules(
    session: SessionDep,
    principal: Reader,
    subject_ref: Annotated[str | None, Query(max_length=128)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[SubjectSchedule]:
    """Schedules of the caller's tenant, newest first, optionally for one subject reference or status."""
    statement = select(SubjectSchedule).where(col(SubjectSchedule.tenant_id) == principal.tenant_id)
    if subject_ref:
        statement = statement.where(col(SubjectSchedule.subject_ref) == subject_ref)
    if status:
        statement = statement.where(col(SubjectSchedule.status) == status)
    rows = await session.exec(statement.order_by(col(SubjectSchedule.created_at).desc()).limit(limit))
    return list(rows.all())


@router.post(
    "/accounts/closures",
    status_code=201,
    response_model=ScheduleOut,
    tags=["schedules"],
    summary="An account was closed (intake from the product)",
    responses={200: {"model": ScheduleOut, "description": "Already scheduled (idempotent)"}},
)
async def account_closed(
    body: AccountClosedIn,
    response: Response,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: Writer,
) -> SubjectSchedule:
    """Schedule the subject's account data for the account policy (90 days by default); idempotent (200)."""
    now = clock.now()
    closed_at = ensure_utc(body.closed_at) if body.closed_at else now
    if closed_at > now:
        raise Unprocessable("closed_at is in the future.", errors=[{"field": "closed_at"}])
    existing = await open_schedule(session, principal.tenant_id, body.subject_ref, DataCategory.ACCOUNT.value)
    if existing is not None:
        response.status_code = 200
        return existing
    request = ScheduleRequest(
        tenant_id=principal.tenant_id,
        subject_ref=body.subject_ref,
        category=DataCategory.ACCOUNT.value,
        event=ClockStart.ACCOUNT_CLOSED,
        event_at=closed_at,
        reason="account closed",
        actor=principal,
    )
    return await schedule_subject(session, request, clock=clock, default_grace=settings.consent_grace_period)


@router.put("/systems/{system}", response_model=SystemOut, tags=["systems"], summary="Register a system")
async def register_system(
    system: Annotated[str, Path(max_length=128, pattern=r"^[a-z0-9][a-z0-9_.-]*$")],
    body: SystemIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Writer,
) -> SystemOut:
    """Create or replace a system and the categories it holds; each category is swept at the next run."""
    row, categories = await registry.register_system(
        session, principal, clock, system, body.categories, body.description
    )
    return SystemOut(key=row.key, description=row.description, categories=categories)


@router.get("/systems", response_model=list[SystemOut], tags=["systems"], summary="List registered systems")
async def list_systems(session: SessionDep, principal: Reader) -> list[SystemOut]:
    """The caller's systems and the categories each holds."""
    return [
        SystemOut(key=row.key, description=row.description, categories=categories)
        for row, categories in await registry.list_systems(session, principal.tenant_id)
    ]
