"""Sweeps and their evidence, the preview and the retention report."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.retention.api.deps import Admin, Reader, SettingsDep
from services.retention.models import SweepRun
from services.retention.schemas import PreviewItem, ReportOut, SweepOut, SweepRunIn
from services.retention.service import registry, reporting, sweeps
from shared.rules.errors import NotFound
from shared.runtime.db import SessionDep
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.service import ClockDep

router = APIRouter(prefix="/v1", responses=PROBLEM_RESPONSES)


@router.get("/sweeps", response_model=list[SweepOut], tags=["sweeps"], summary="List sweeps (the evidence)")
async def list_sweeps(
    session: SessionDep,
    principal: Reader,
    system: Annotated[str | None, Query(max_length=128)] = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[SweepRun]:
    """Who asked, which policy version, the cut-off, what was held back, the counts and when, newest first."""
    return await sweeps.list_runs(
        session, principal.tenant_id, system=system, category=category, status=status, limit=limit
    )


@router.get("/sweeps/{sweep_id}", response_model=SweepOut, tags=["sweeps"], summary="Read one sweep")
async def get_sweep(sweep_id: uuid.UUID, session: SessionDep, principal: Reader) -> SweepRun:
    """One sweep of the caller's tenant."""
    run = await sweeps.get_run(session, principal.tenant_id, sweep_id)
    if run is None:
        raise NotFound(f"No sweep {sweep_id}.")
    return run


@router.post("/sweeps/run", status_code=201, response_model=list[SweepOut], tags=["sweeps"], summary="Sweep now")
async def run_sweeps_now(
    body: SweepRunIn, session: SessionDep, clock: ClockDep, settings: SettingsDep, principal: Admin
) -> list[SweepRun]:
    """Sweep the tenant's systems and categories now (all, or the ones named), recorded as asked by the caller."""
    pairs = [
        pair
        for pair in await registry.system_categories(session, principal.tenant_id)
        if body.system in (None, pair.system) and body.category in (None, pair.category)
    ]
    if not pairs:
        raise NotFound("No registered system holds that category.")
    rules = await sweeps.tenant_rules(session, principal.tenant_id, clock.now())
    runs: list[SweepRun] = []
    for pair in pairs:
        runs += await sweeps.sweep_pair(
            session, pair, rules, settings=settings, clock=clock, requested_by=principal.subject
        )
    return runs


@router.get("/preview", response_model=list[PreviewItem], tags=["sweeps"], summary="What a sweep would do now")
async def preview(session: SessionDep, clock: ClockDep, principal: Reader) -> list[dict[str, Any]]:
    """Per system and category: the policy, the cut-offs a sweep would send now, and what holds keep back."""
    return await reporting.preview(session, principal.tenant_id, clock.now())


@router.get("/report", response_model=ReportOut, tags=["report"], summary="The tenant's retention report")
async def report(session: SessionDep, clock: ClockDep, principal: Reader) -> dict[str, Any]:
    """Policies, last sweep per system and category, overdue sweeps, standing holds and schedule counts."""
    return await reporting.report(session, principal.tenant_id, clock.now())
