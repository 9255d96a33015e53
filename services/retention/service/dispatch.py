"""Due subject schedules become sweep commands: claimed in batches, published in bulk.

Built for a million schedules: a claim is one ``SELECT … FOR UPDATE SKIP LOCKED`` on the partial
index of pending rows (several replicas share the work), the subjects of one (tenant, category,
purpose) go out as commands of up to ``subjects_per_command`` references, and the claimed rows
change status in one ``UPDATE … FROM unnest(…)`` per batch. Each batch is one transaction.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from services.retention.domain import LegalHold, SweepExclusions, parse_category, sweep_exclusions
from services.retention.models import SweepRun
from services.retention.service.common import emit
from services.retention.service.holds import active_holds
from services.retention.service.registry import system_categories
from services.retention.settings import RetentionSettings
from shared.clock import Clock
from shared.db import Database
from shared.durations import add_duration, parse_duration
from shared.events.catalogue.retention import RetentionSubjectSweepRequested

log = structlog.get_logger("privops.retention.dispatch")

# One statement claims a batch, cuts it into commands (one batch id per group of at most :chunk
# subjects of the same tenant, category, purpose, action and policy) and marks it requested.
CLAIM_DUE = text(
    """
    WITH due AS (
        SELECT id, tenant_id, category, purpose, action, policy_id, policy_version
        FROM subject_schedule
        WHERE status = 'pending' AND due_at <= :now
        ORDER BY due_at
        LIMIT CAST(:limit AS integer)
        FOR UPDATE SKIP LOCKED
    ), batched AS (
        SELECT id, md5(concat_ws('|', CAST(:token AS text), tenant_id, category, purpose, action,
                                 policy_id, policy_version,
            (row_number() OVER (PARTITION BY tenant_id, category, purpose, action, policy_id, policy_version
                                ORDER BY id) - 1) / CAST(:chunk AS integer)))::uuid AS batch_id
        FROM due
    )
    UPDATE subject_schedule AS s SET status = 'requested', batch_id = batched.batch_id
    FROM batched
    WHERE s.id = batched.id
    RETURNING s.id, s.tenant_id, s.subject_ref, s.category, s.purpose, s.action, s.policy_id, s.policy_version,
              s.batch_id
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


async def tenant_view(session: AsyncSession, tenant_id: str, now: datetime) -> TenantView:
    """Load the tenant's systems by category and its standing holds."""
    systems: dict[str, list[str]] = defaultdict(list)
    for pair in await system_categories(session, tenant_id):
        systems[pair.category].append(pair.system)
    return TenantView(systems=dict(systems), holds=await active_holds(session, tenant_id, now))


def routable(category: str) -> bool:
    """True for a category the policies know (older schedules may carry a free-form one)."""
    try:
        parse_category(category)
    except ValueError:
        return False
    return True


async def dispatch_batch(
    session: AsyncSession, settings: RetentionSettings, clock: Clock, views: dict[str, TenantView]
) -> int:
    """Claim one batch of due schedules and publish their commands; return how many were claimed."""
    now = clock.now()
    conn = await session.connection()
    params = {"now": now, "limit": settings.schedule_claim_size, "chunk": settings.subjects_per_command}
    rows = (await conn.execute(CLAIM_DUE, {**params, "token": uuid.uuid4().hex})).all()
    if not rows:
        return 0
    batches: dict[uuid.UUID, list[Any]] = defaultdict(list)
    held: list[uuid.UUID] = []
    unrouted: list[uuid.UUID] = []
    for row in rows:
        if row.tenant_id not in views:
            views[row.tenant_id] = await tenant_view(session, row.tenant_id, now)
        view = views[row.tenant_id]
        if not routable(row.category) or not view.systems.get(row.category):
            unrouted.append(row.id)
        elif view.held(row.category, row.subject_ref, now):
            held.append(row.id)
        else:
            batches[row.batch_id].append(row)
    retry_at = add_duration(now, parse_duration(settings.sweep_answer_timeout))
    for batch_id, members in batches.items():
        first = members[0]
        refs = [row.subject_ref for row in members]
        for system in views[first.tenant_id].systems[first.category]:
            run = SweepRun(
                tenant_id=first.tenant_id,
                kind="subject",
                system=system,
                category=first.category,
                purpose=first.purpose,
                action=first.action,
                policy_id=first.policy_id,
                policy_version=first.policy_version,
                batch_id=batch_id,
                subject_count=len(refs),
                requested_by=REQUESTED_BY,
                requested_at=now,
                next_attempt_at=retry_at,
            )
            session.add(run)
            await emit(
                session,
                RetentionSubjectSweepRequested(
                    sweep_id=run.id,
                    system=system,
                    category=first.category,
                    purpose=first.purpose,
                    action=first.action,
                    subject_refs=refs,
                    policy_id=first.policy_id,
                    policy_version=first.policy_version,
                ),
                tenant_id=first.tenant_id,
                subject=system,
                clock=clock,
            )
    for status, marked in (("held", held), ("unrouted", unrouted)):
        if marked:
            await conn.execute(MARK, {"status": status, "ids": marked})
    await session.flush()
    sent = len(rows) - len(held) - len(unrouted)
    log.info("retention.schedules.dispatched", claimed=len(rows), sent=sent, held=len(held), unrouted=len(unrouted))
    return len(rows)


async def dispatch_due(database: Database, settings: RetentionSettings, clock: Clock) -> int:
    """Turn every due schedule into sweep commands; return how many were handled.

    Several workers claim batches side by side (SKIP LOCKED keeps them apart), one transaction per batch.
    """
    views: dict[str, TenantView] = {}

    async def worker() -> int:
        handled = 0
        while True:
            async with database.session() as session:
                # Losing the last commits in a server crash only puts their rows back to pending (the
                # status change and the outbox rows are one transaction), so the WAL flush need not wait.
                await session.exec(text("SET LOCAL synchronous_commit = off"))  # type: ignore[call-overload]
                claimed = await dispatch_batch(session, settings, clock, views)
            handled += claimed
            if claimed < settings.schedule_claim_size:
                return handled

    return sum(await asyncio.gather(*(worker() for _ in range(settings.schedule_workers))))
