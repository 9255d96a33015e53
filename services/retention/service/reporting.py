"""Preview ("what would a sweep do now") and the retention report of a tenant."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from services.retention.domain import sweep_exclusions, sweep_steps
from services.retention.models import SubjectSchedule, SweepRun
from services.retention.service import Uow
from services.retention.service.holds import active_holds, list_holds
from services.retention.service.policies import applicable, current_policies
from services.retention.service.registry import system_categories


async def due_schedules_by_category(uow: Uow, now: datetime) -> dict[str, int]:
    """How many subject schedules are due now and not yet sent, per category."""
    rows = await uow.session.exec(
        select(SubjectSchedule.category, func.count())
        .where(
            col(SubjectSchedule.tenant_id) == uow.tenant_id,
            col(SubjectSchedule.status) == "pending",
            col(SubjectSchedule.due_at) <= now,
        )
        .group_by(col(SubjectSchedule.category))
    )
    return {category: int(count) for category, count in rows.all()}


async def preview(uow: Uow) -> list[dict[str, Any]]:
    """Per system and category: the policy, the commands a sweep would send now and what holds keep back."""
    now = uow.now()
    policies = await current_policies(uow)
    holds = await active_holds(uow, now)
    due = await due_schedules_by_category(uow, now)
    items: list[dict[str, Any]] = []
    for pair in await system_categories(uow):
        found = applicable([p for p in policies if p.category == pair.category], pair.category, pair.system)
        exclusions = sweep_exclusions(pair.system, pair.category, holds, now)
        item: dict[str, Any] = {
            "system": pair.system,
            "category": pair.category,
            "policy_id": found.row.policy_id if found and found.row else None,
            "policy_version": found.row.version if found and found.row else None,
            "steps": [],
            "whole_sweep_held": exclusions.whole_sweep_held,
            "held_subject_refs": sorted(exclusions.subject_refs),
            "held_matters": sorted(exclusions.matters),
            "hold_ids": list(exclusions.hold_ids),
            "due_subject_schedules": due.get(pair.category, 0),
            "note": None,
        }
        if found is None:
            item["note"] = "no policy covers this category: install the default pack or add a policy"
        elif exclusions.whole_sweep_held:
            item["note"] = "a legal hold stops this sweep: nothing would be deleted"
        else:
            item["steps"] = [{"action": s.action.value, "cutoff": s.cutoff} for s in sweep_steps(found.policy, now)]
        items.append(item)
    return items


async def report(uow: Uow) -> dict[str, Any]:
    """Policies, last sweep per system and category, overdue sweeps, holds and schedule counts."""
    session, tenant_id, now = uow.session, uow.tenant_id, uow.now()
    pairs = await system_categories(uow)
    runs = (
        await session.exec(
            select(SweepRun)
            .where(col(SweepRun.tenant_id) == tenant_id, col(SweepRun.kind) == "category")
            .order_by(col(SweepRun.requested_at).desc())
            .limit(5000)
        )
    ).all()
    last: dict[tuple[str, str], SweepRun] = {}
    for run in runs:
        last.setdefault((run.system, run.category), run)
    overdue = (
        await session.exec(
            select(SweepRun)
            .where(
                col(SweepRun.tenant_id) == tenant_id,
                (col(SweepRun.status) == "escalated")
                | ((col(SweepRun.status) == "requested") & (col(SweepRun.next_attempt_at) <= now)),
            )
            .order_by(col(SweepRun.requested_at))
            .limit(1000)
        )
    ).all()
    counts: dict[str, int] = defaultdict(int)
    for status, count in (
        await session.exec(
            select(SubjectSchedule.status, func.count())
            .where(col(SubjectSchedule.tenant_id) == tenant_id)
            .group_by(col(SubjectSchedule.status))
        )
    ).all():
        counts[status] = int(count)
    return {
        "tenant_id": tenant_id,
        "generated_at": now,
        "policies": await current_policies(uow),
        "systems": [
            {
                "system": pair.system,
                "category": pair.category,
                "next_sweep_at": pair.next_sweep_at,
                "last_sweep": last.get((pair.system, pair.category)),
                "sweep_late": pair.next_sweep_at < now,
            }
            for pair in pairs
        ],
        "overdue_sweeps": list(overdue),
        "holds": await list_holds(uow, active_only=True),
        "schedules_by_status": dict(counts),
    }
