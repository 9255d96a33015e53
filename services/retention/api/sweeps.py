"""Sweeps and their evidence, the preview and the retention report."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.retention.api.deps import AdminUow, ReadUow
from services.retention.models import SweepRun
from services.retention.schemas import PreviewItem, ReportOut, SweepOut, SweepRunIn
from services.retention.service import reporting, sweeps
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.repository import get_or_404

router = APIRouter(prefix="/v1", responses=PROBLEM_RESPONSES)


@router.get("/sweeps", response_model=list[SweepOut], tags=["sweeps"], summary="List sweeps (the evidence)")
async def list_sweeps(
    uow: ReadUow,
    system: Annotated[str | None, Query(max_length=128)] = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[SweepRun]:
    """Who asked, which policy version, the cut-off, what was held back, the counts and when, newest first."""
    return await sweeps.list_runs(uow, system=system, category=category, status=status, limit=limit)


@router.get("/sweeps/{sweep_id}", response_model=SweepOut, tags=["sweeps"], summary="Read one sweep")
async def get_sweep(sweep_id: uuid.UUID, uow: ReadUow) -> SweepRun:
    """One sweep of the caller's tenant."""
    return await get_or_404(uow, SweepRun, sweep_id, label="sweep")


@router.post("/sweeps/run", status_code=201, response_model=list[SweepOut], tags=["sweeps"], summary="Sweep now")
async def run_sweeps_now(body: SweepRunIn, uow: AdminUow) -> list[SweepRun]:
    """Sweep the tenant's systems and categories now (all, or the ones named), recorded as asked by the caller."""
    return await sweeps.sweep_now(uow, body.system, body.category)


@router.get("/preview", response_model=list[PreviewItem], tags=["sweeps"], summary="What a sweep would do now")
async def preview(uow: ReadUow) -> list[dict[str, Any]]:
    """Per system and category: the policy, the cut-offs a sweep would send now, and what holds keep back."""
    return await reporting.preview(uow)


@router.get("/report", response_model=ReportOut, tags=["report"], summary="The tenant's retention report")
async def report(uow: ReadUow) -> dict[str, Any]:
    """Policies, last sweep per system and category, overdue sweeps, standing holds and schedule counts."""
    return await reporting.report(uow)
