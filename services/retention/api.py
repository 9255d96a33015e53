"""HTTP endpoints of the retention service."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlmodel import col, select

from services.retention.models import SubjectSchedule
from shared.auth import Principal, require
from shared.db import SessionDep

router = APIRouter(prefix="/v1", tags=["schedules"])


class ScheduleOut(BaseModel):
    """A subject-level deletion schedule."""

    id: uuid.UUID
    subject_ref: str
    category: str
    reason: str
    status: str
    due_at: datetime
    created_at: datetime


@router.get("/schedules", response_model=list[ScheduleOut], summary="List subject-level schedules")
async def list_schedules(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("retention:read"))],
    subject_ref: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[SubjectSchedule]:
    """Schedules of the caller's tenant, newest first, optionally for one subject reference."""
    statement = select(SubjectSchedule).where(col(SubjectSchedule.tenant_id) == principal.tenant_id)
    if subject_ref:
        statement = statement.where(col(SubjectSchedule.subject_ref) == subject_ref)
    rows = await session.exec(statement.order_by(col(SubjectSchedule.created_at).desc()).limit(limit))
    return list(rows.all())
