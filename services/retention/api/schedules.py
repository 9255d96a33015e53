"""Subject-level schedules, the account-closure intake and the system registry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from services.retention.api.deps import ReadUow, WriteUow
from services.retention.models import SubjectSchedule
from services.retention.schemas import AccountClosedIn, ScheduleOut, SystemIn, SystemOut
from services.retention.service import registry, schedules
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1", responses=PROBLEM_RESPONSES)


@router.get("/schedules", response_model=list[ScheduleOut], tags=["schedules"], summary="List subject schedules")
async def list_schedules(
    uow: ReadUow,
    subject_ref: Annotated[str | None, Query(max_length=128)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[SubjectSchedule]:
    """Schedules of the caller's tenant, newest first, optionally for one subject reference or status."""
    return await schedules.list_schedules(uow, subject_ref=subject_ref, status=status, limit=limit)


@router.post(
    "/accounts/closures",
    status_code=201,
    response_model=ScheduleOut,
    tags=["schedules"],
    summary="An account was closed (intake from the product)",
    responses={200: {"model": ScheduleOut, "description": "Already scheduled (idempotent)"}},
)
async def account_closed(body: AccountClosedIn, response: Response, uow: WriteUow) -> SubjectSchedule:
    """Schedule the subject's account data for the account policy (90 days by default); idempotent (200)."""
    schedule, created = await schedules.close_account(uow, body.subject_ref, body.closed_at)
    if not created:
        response.status_code = 200
    return schedule


@router.put("/systems/{system}", response_model=SystemOut, tags=["systems"], summary="Register a system")
async def register_system(
    system: Annotated[str, Path(max_length=128, pattern=r"^[a-z0-9][a-z0-9_.-]*$")], body: SystemIn, uow: WriteUow
) -> SystemOut:
    """Create or replace a system and the categories it holds; each category is swept at the next run."""
    row, categories = await registry.register_system(uow, system, body.categories, body.description)
    return SystemOut(key=row.key, description=row.description, categories=categories)


@router.get("/systems", response_model=list[SystemOut], tags=["systems"], summary="List registered systems")
async def list_systems(uow: ReadUow) -> list[SystemOut]:
    """The caller's systems and the categories each holds."""
    return [
        SystemOut(key=row.key, description=row.description, categories=categories)
        for row, categories in await registry.list_systems(uow)
    ]
