"""Category sweeps: per system and category, the cut-off of the policy in force, sent to the store.

Every command is a ``sweep_run`` row, the evidence kept after the data is gone: who asked, which
policy version, the cut-off, what was held back, the store's counts and when it answered. A
sweep without an answer is sent again, then escalated.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import structlog
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from services.retention.domain import LegalHold, sweep_exclusions, sweep_steps
from services.retention.models import PolicyVersion, SubjectSchedule, SweepRun, SystemCategory
from services.retention.service import Job, Uow
from services.retention.service.holds import active_holds
from services.retention.service.policies import applicable, current_policies
from services.retention.service.registry import system_categories
from shared.events.catalogue.retention import (
    RetentionSubjectSweepRequested,
    RetentionSweepCompleted,
    RetentionSweepEscalated,
    RetentionSweepRequested,
)
from shared.rules.durations import add_duration, parse_duration
from shared.rules.errors import NotFound
from shared.runtime.jobs import claim
from shared.runtime.repository import find

log = structlog.get_logger("privops.retention.sweeps")

JOB_ACTOR = "job:retention.sweep"


class TenantRules:
    """A tenant's current policies and standing holds, loaded once per sweep run."""

    def __init__(self, policies: Sequence[PolicyVersion], holds: Sequence[LegalHold]) -> None:
        self.policies = list(policies)
        self.holds = list(holds)


async def tenant_rules(uow: Uow, now: datetime) -> TenantRules:
    """Load what a sweep of the tenant needs."""
    return TenantRules(await current_policies(uow), await active_holds(uow, now))


async def sweep_pair(uow: Uow, pair: SystemCategory, rules: TenantRules) -> list[SweepRun]:
    """Sweep one system and category now, asked by the unit's actor: record the runs, stage the commands."""
    settings, session = uow.settings, uow.session
    now = uow.now()
    pair.next_sweep_at = add_duration(now, parse_duration(settings.sweep_every))
    pair.last_sweep_at = now
    session.add(pair)
    found = applicable([p for p in rules.policies if p.category == pair.category], pair.category, pair.system)
    if found is None or found.row is None:
        log.warning("retention.sweep.no_policy", system=pair.system, category=pair.category)
        return []
    exclusions = sweep_exclusions(pair.system, pair.category, rules.holds, now)
    retry_at = add_duration(now, parse_duration(settings.sweep_answer_timeout))
    runs: list[SweepRun] = []
    for step in sweep_steps(found.policy, now):
        run = SweepRun(
            tenant_id=pair.tenant_id,
            system=pair.system,
            category=pair.category,
            action=step.action.value,
            cutoff=step.cutoff,
            policy_id=found.row.policy_id,
            policy_version=found.row.version,
            held_subject_refs=sorted(exclusions.subject_refs),
            held_matters=sorted(exclusions.matters),
            hold_ids=list(exclusions.hold_ids),
            status="held" if exclusions.whole_sweep_held else "requested",
            requested_by=uow.actor,
            requested_at=now,
            next_attempt_at=None if exclusions.whole_sweep_held else retry_at,
        )
        session.add(run)
        runs.append(run)
        if exclusions.whole_sweep_held:
            log.info("retention.sweep.held", system=pair.system, category=pair.category, holds=exclusions.hold_ids)
            continue
        await uow.stage(command_of(run), pair.system)
    uow.audit(
        "sweep.held" if exclusions.whole_sweep_held else "sweep.requested",
        "sweep_run",
        ",".join(str(run.id) for run in runs),
        {"system": pair.system, "category": pair.category, "policy_version": found.row.version},
    )
    await session.flush()
    return runs


def command_of(run: SweepRun) -> RetentionSweepRequested:
    """The command of a category sweep run."""
    assert run.cutoff is not None
    assert run.policy_id is not None
    assert run.policy_version is not None
    return RetentionSweepRequested(
        sweep_id=run.id,
        system=run.system,
        category=run.category,
        action=run.action,
        cutoff=run.cutoff,
        policy_id=run.policy_id,
        policy_version=run.policy_version,
        held_subject_refs=run.held_subject_refs,
        held_matters=run.held_matters,
    )


async def sweep_now(uow: Uow, system: str | None = None, category: str | None = None) -> list[SweepRun]:
    """Sweep the tenant's systems and categories now (all, or the ones named); 404 when none holds them."""
    pairs = [
        pair
        for pair in await system_categories(uow)
        if system in (None, pair.system) and category in (None, pair.category)
    ]
    if not pairs:
        raise NotFound("No registered system holds that category.")
    rules = await tenant_rules(uow, uow.now())
    runs: list[SweepRun] = []
    for pair in pairs:
        runs += await sweep_pair(uow, pair, rules)
    return runs


async def run_due_sweeps(job: Uow, limit: int = 100) -> int:
    """Claim the (system, category) pairs of any tenant whose sweep is due and sweep them; return how many."""
    now = job.now()
    statement = select(SystemCategory).where(col(SystemCategory.next_sweep_at) <= now)
    pairs = await claim(job.session, statement.order_by(col(SystemCategory.next_sweep_at)), limit=limit)
    rules: dict[str, TenantRules] = {}
    for pair in pairs:
        uow = job.for_tenant(pair.tenant_id)
        if pair.tenant_id not in rules:
            rules[pair.tenant_id] = await tenant_rules(uow, now)
        await sweep_pair(uow, pair, rules[pair.tenant_id])
    return len(pairs)


async def sweep_due(ctx: Job) -> int:
    """Job: sweep every (system, category) whose turn has come, a claimed batch per transaction."""
    total = 0
    while True:
        async with ctx.database.session() as session:
            swept = await run_due_sweeps(ctx.unit_of_work(session, "", JOB_ACTOR))
        total += swept
        if swept == 0:
            return total


async def record_result(uow: Uow, result: RetentionSweepCompleted) -> None:
    """A store answered: keep its counts as evidence; a subject batch answered everywhere closes its schedules."""
    session = uow.session
    run = await find(uow, SweepRun, result.sweep_id)
    if run is None:
        log.warning("retention.sweep.unknown_result", sweep_id=str(result.sweep_id))
        return
    if run.status == "completed":
        return
    run.status = "completed"
    run.completed_at = result.completed_at
    run.next_attempt_at = None
    run.counts = {
        "deleted": result.deleted,
        "anonymised": result.anonymised,
        "archived": result.archived,
        "skipped_held": result.skipped_held,
    }
    run.detail = result.detail
    session.add(run)
    await session.flush()
    if run.batch_id is not None:
        waiting = (
            await session.exec(
                select(SweepRun.id).where(col(SweepRun.batch_id) == run.batch_id, col(SweepRun.status) != "completed")
            )
        ).first()
        if waiting is None:
            await session.exec(
                update(SubjectSchedule)
                .where(col(SubjectSchedule.batch_id) == run.batch_id, col(SubjectSchedule.status) == "requested")
                .values(status="done", closed_at=uow.now())
            )
    uow.audit(
        "sweep.completed",
        "sweep_run",
        run.id,
        {"counts": run.counts, "policy_id": run.policy_id, "policy_version": run.policy_version},
    )


async def subject_command(session: AsyncSession, run: SweepRun) -> RetentionSubjectSweepRequested | None:
    """The command of a subject-level run, rebuilt from its batch (None when every subject left the batch)."""
    refs = (
        await session.exec(
            select(SubjectSchedule.subject_ref).where(
                col(SubjectSchedule.batch_id) == run.batch_id, col(SubjectSchedule.status) == "requested"
            )
        )
    ).all()
    if not refs:
        return None
    return RetentionSubjectSweepRequested(
        sweep_id=run.id,
        system=run.system,
        category=run.category,
        purpose=run.purpose,
        action=run.action,
        subject_refs=list(refs),
        policy_id=run.policy_id,
        policy_version=run.policy_version,
        attempt=run.attempts,
    )


async def retry_unanswered(job: Uow, limit: int = 200) -> int:
    """Send unanswered sweeps of any tenant again; escalate those out of attempts. Return how many were handled."""
    session, settings = job.session, job.settings
    now = job.now()
    statement = select(SweepRun).where(col(SweepRun.status) == "requested", col(SweepRun.next_attempt_at) <= now)
    runs = await claim(session, statement.order_by(col(SweepRun.next_attempt_at)), limit=limit)
    for run in runs:
        uow = job.for_tenant(run.tenant_id)
        if run.attempts >= settings.sweep_max_attempts:
            await escalate(uow, run)
            continue
        run.attempts += 1
        run.next_attempt_at = add_duration(now, parse_duration(settings.sweep_answer_timeout))
        command = command_of(run) if run.kind == "category" else await subject_command(session, run)
        if command is None:
            run.status, run.completed_at, run.detail = "completed", now, "nothing left to sweep (erased or cancelled)"
        else:
            await uow.stage(command, run.system)
            log.info("retention.sweep.retried", sweep_id=str(run.id), attempt=run.attempts)
        session.add(run)
    await session.flush()
    return len(runs)


async def retry(ctx: Job) -> int:
    """Job: re-send sweeps that got no answer; escalate those out of attempts."""
    async with ctx.database.session() as session:
        return await retry_unanswered(ctx.unit_of_work(session, "", JOB_ACTOR))


async def escalate(uow: Uow, run: SweepRun) -> None:
    """Give up waiting for a store: mark the run escalated and tell people through an event."""
    now = uow.now()
    run.status, run.escalated_at, run.next_attempt_at = "escalated", now, None
    uow.session.add(run)
    await uow.stage(
        RetentionSweepEscalated(
            sweep_id=run.id,
            system=run.system,
            category=run.category,
            action=run.action,
            attempts=run.attempts,
            requested_at=run.requested_at,
            escalated_at=now,
        ),
        run.system,
    )
    uow.audit(
        "sweep.escalated",
        "sweep_run",
        run.id,
        {"system": run.system, "category": run.category, "attempts": run.attempts},
    )
    log.warning("retention.sweep.escalated", sweep_id=str(run.id), system=run.system, attempts=run.attempts)


async def list_runs(
    uow: Uow,
    *,
    system: str | None = None,
    category: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[SweepRun]:
    """The tenant's sweep runs (the evidence), newest first."""
    statement = select(SweepRun).where(col(SweepRun.tenant_id) == uow.tenant_id)
    if system:
        statement = statement.where(col(SweepRun.system) == system)
    if category:
        statement = statement.where(col(SweepRun.category) == category)
    if status:
        statement = statement.where(col(SweepRun.status) == status)
    rows = await uow.session.exec(statement.order_by(col(SweepRun.requested_at).desc(), col(SweepRun.id)).limit(limit))
    return list(rows.all())
