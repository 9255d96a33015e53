"""Due subject schedules become sweep commands: claimed in batches, published in bulk.

Built for a million schedules: a claim is one ``UPDATE … RETURNING`` whose rows come from a
``SELECT … FOR UPDATE SKIP LOCKED`` on the partial index of pending rows (several replicas share the
work). The update finds the claimed rows by their physical address (``ctid``), so a batch costs the
rows it claims and never a scan of the table. The subjects of one (tenant, category, purpose) go out
as commands of up to ``subjects_per_command`` references, staged with one COPY per tenant. Each batch
is one transaction.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy import text

from services.retention.domain import LegalHold, SweepExclusions, parse_category, sweep_exclusions
from services.retention.models import SweepRun
from services.retention.service import Job, Uow
from services.retention.service.holds import active_holds
from services.retention.service.registry import system_categories
from shared.events.catalogue import Event
from shared.events.catalogue.retention import RetentionSubjectSweepRequested
from shared.rules.durations import add_duration, parse_duration

log = structlog.get_logger("privops.retention.dispatch")

# One statement claims a batch, cuts it into commands (one batch id per group of at most :chunk
# subjects of the same tenant, category, purpose, action and policy), marks it requested and returns
# one row per command with its ids and subject references as arrays (not a row per subject).
CLAIM_DUE = text(
    """
    WITH due AS (
        SELECT ctid AS row_id, id, tenant_id, category, purpose, action, policy_id, policy_version
        FROM subject_schedule
        WHERE status = 'pending' AND due_at <= :now
        ORDER BY due_at
        LIMIT CAST(:limit AS integer)
        FOR UPDATE SKIP LOCKED
    ), batched AS (
        SELECT row_id, md5(concat_ws('|', CAST(:token AS text), tenant_id, category, purpose, action,
                                 policy_id, policy_version,
            (row_number() OVER (PARTITION BY tenant_id, category, purpose, action, policy_id, policy_version
                                ORDER BY id) - 1) / CAST(:chunk AS integer)))::uuid AS batch_id
        FROM due
    ), claimed AS (
        UPDATE subject_schedule AS s SET status = 'requested', batch_id = batched.batch_id
        FROM batched
        WHERE s.ctid = batched.row_id  -- a TID lookup per row: joined on id, the planner hashes the whole table
        RETURNING s.id, s.tenant_id, s.subject_ref, s.category, s.purpose, s.action, s.policy_id, s.policy_version,
                  s.batch_id
    )
    SELECT batch_id, tenant_id, category, purpose, action, policy_id, policy_version,
           array_agg(id) AS ids, array_agg(subject_ref) AS subject_refs
    FROM claimed
    GROUP BY batch_id, tenant_id, category, purpose, action, policy_id, policy_version
    """
)
MARK = text("UPDATE subject_schedule SET status = :status, batch_id = NULL WHERE id = ANY(CAST(:ids AS uuid[]))")
REQUESTED_BY = "job:retention.schedules"


@dataclass
class TenantView:
    """What the dispatcher needs to know about one tenant, loaded once per run."""

    systems: dict[str, list[str]]
    holds: list[LegalHold]
    exclusions: dict[tuple[str, str], SweepExclusions] = field(default_factory=dict)

    def held(self, category: str, subject_ref: str, now: datetime) -> bool:
        """True when a hold stops the subject's data of the category in any system holding it."""
        if not self.holds:
            return False
        for system in self.systems.get(category, ()):
            key = (system, category)
            if key not in self.exclusions:
                self.exclusions[key] = sweep_exclusions(system, category, self.holds, now)
            if self.exclusions[key].skips(subject_ref):
                return True
        return False


async def tenant_view(uow: Uow, now: datetime) -> TenantView:
    """Load the tenant's systems by category and its standing holds."""
    systems: dict[str, list[str]] = defaultdict(list)
    for pair in await system_categories(uow):
        systems[pair.category].append(pair.system)
    return TenantView(systems=dict(systems), holds=await active_holds(uow, now))


@functools.cache
def routable(category: str) -> bool:
    """True for a category the policies know (older schedules may carry a free-form one)."""
    try:
        parse_category(category)
    except ValueError:
        return False
    return True


async def dispatch_batch(job: Uow, views: dict[str, TenantView]) -> int:
    """Claim one batch of due schedules of any tenant and publish their commands; return how many were claimed."""
    session, settings = job.session, job.settings
    now = job.now()
    conn = await session.connection()
    params = {"now": now, "limit": settings.schedule_claim_size, "chunk": settings.subjects_per_command}
    groups = (await conn.execute(CLAIM_DUE, {**params, "token": uuid.uuid4().hex})).all()
    if not groups:
        return 0
    claimed = sum(len(group.ids) for group in groups)
    held: list[uuid.UUID] = []
    unrouted: list[uuid.UUID] = []
    retry_at = add_duration(now, parse_duration(settings.sweep_answer_timeout))
    commands: dict[str, list[tuple[Event, str | None]]] = defaultdict(list)
    for group in groups:
        view = views.get(group.tenant_id)
        if view is None:
            view = views[group.tenant_id] = await tenant_view(job.for_tenant(group.tenant_id), now)
        systems = view.systems.get(group.category) if routable(group.category) else None
        if not systems:
            unrouted += group.ids
            continue
        refs: list[str] = group.subject_refs
        if view.holds:
            kept = [view.held(group.category, ref, now) for ref in refs]
            held += [id_ for id_, stays in zip(group.ids, kept, strict=True) if stays]
            refs = [ref for ref, stays in zip(refs, kept, strict=True) if not stays]
            if not refs:
                continue
        for system in systems:
            run = SweepRun(
                tenant_id=group.tenant_id,
                kind="subject",
                system=system,
                category=group.category,
                purpose=group.purpose,
                action=group.action,
                policy_id=group.policy_id,
                policy_version=group.policy_version,
                batch_id=group.batch_id,
                subject_count=len(refs),
                requested_by=REQUESTED_BY,
                requested_at=now,
                next_attempt_at=retry_at,
            )
            session.add(run)
            command = RetentionSubjectSweepRequested(
                sweep_id=run.id,
                system=system,
                category=group.category,
                purpose=group.purpose,
                action=group.action,
                subject_refs=refs,
                policy_id=group.policy_id,
                policy_version=group.policy_version,
            )
            commands[group.tenant_id].append((command, system))
    for tenant_id, events in commands.items():  # the sweep runs are flushed first, then one COPY per tenant
        await job.for_tenant(tenant_id).stage_many(events)
    for status, marked in (("held", held), ("unrouted", unrouted)):
        if marked:
            await conn.execute(MARK, {"status": status, "ids": marked})
    await session.flush()
    sent = claimed - len(held) - len(unrouted)
    log.info("retention.schedules.dispatched", claimed=claimed, sent=sent, held=len(held), unrouted=len(unrouted))
    return claimed


async def dispatch_due(ctx: Job) -> int:
    """Job: turn every due schedule into sweep commands; return how many were handled.

    Several workers claim batches side by side (SKIP LOCKED keeps them apart), one transaction per batch.
    """
    views: dict[str, TenantView] = {}

    async def worker() -> int:
        handled = 0
        while True:
            async with ctx.database.session() as session:
                # Losing the last commits in a server crash only puts their rows back to pending (the
                # status change and the outbox rows are one transaction), so the WAL flush need not wait.
                await session.exec(text("SET LOCAL synchronous_commit = off"))  # type: ignore[call-overload]
                job = ctx.unit_of_work(session, "", REQUESTED_BY)
                claimed = await dispatch_batch(job, views)
            handled += claimed
            if claimed < job.settings.schedule_claim_size:
                return handled

    workers = ctx.settings.schedule_workers
    return sum(await asyncio.gather(*(worker() for _ in range(workers))))
