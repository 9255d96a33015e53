"""Periodic work of the DSAR service; every job claims rows with FOR UPDATE SKIP LOCKED."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from services.dsar.models import OPEN_STATES, DsarRequest, DsarTask, Notification
from services.dsar.service.context import Ctx
from services.dsar.service.packages import purge_expired
from services.dsar.service.tasks import escalate, republish
from services.dsar.settings import DsarSettings
from shared.events.catalogue.dsar import DsarDeadlineApproaching, DsarDeadlineOverdue
from shared.runtime.jobs import JobContext, PeriodicJob, claim

BATCH = 200


def _settings(ctx: JobContext) -> DsarSettings:
    assert isinstance(ctx.settings, DsarSettings)
    return ctx.settings


async def check_deadlines(ctx: JobContext) -> int:
    """Stage ``deadline.approaching`` and ``deadline.overdue`` once each for open, running clocks."""
    settings, now = _settings(ctx), ctx.clock.now()
    window = timedelta(days=settings.approaching_days)
    async with ctx.database.session() as session:
        running = (
            col(DsarRequest.state).in_(OPEN_STATES),
            col(DsarRequest.paused_since).is_(None),
        )
        overdue = await claim(
            session,
            select(DsarRequest).where(
                *running, col(DsarRequest.overdue_notified_at).is_(None), col(DsarRequest.due_at) < now
            ),
            BATCH,
        )
        for request in overdue:
            await _deadline_event(Ctx(session, settings, ctx.clock, request.tenant_id, "job:deadlines"), request, True)
            # An overdue request no longer needs its "approaching" warning.
            request.approaching_notified_at = request.approaching_notified_at or now
            request.overdue_notified_at = now
            session.add(request)
        approaching = await claim(
            session,
            select(DsarRequest).where(
                *running,
                col(DsarRequest.approaching_notified_at).is_(None),
                col(DsarRequest.due_at) >= now,
                col(DsarRequest.due_at) <= now + window,
            ),
            BATCH,
        )
        for request in approaching:
            await _deadline_event(Ctx(session, settings, ctx.clock, request.tenant_id, "job:deadlines"), request, False)
            request.approaching_notified_at = now
            session.add(request)
        return len(overdue) + len(approaching)


async def _deadline_event(unit: Ctx, request: DsarRequest, overdue: bool) -> None:
    kind = DsarDeadlineOverdue if overdue else DsarDeadlineApproaching
    await unit.stage(
        kind(
            request_id=request.id,
            request_type=request.request_type,
            subject_ref=request.subject_ref,
            regime=request.regime_id,
            due_at=request.due_at,
        ),
        subject=request.subject_ref,
    )
    unit.audit("deadline.overdue" if overdue else "deadline.approaching", "dsar_request", request.id)


async def redeliver_tasks(ctx: JobContext) -> int:
    """Re-publish tasks nobody claimed in time (with back-off); escalate after the last try or past due."""
    settings, now = _settings(ctx), ctx.clock.now()
    async with ctx.database.session() as session:
        unanswered = await claim(
            session,
            select(DsarTask)
            .where(
                col(DsarTask.state) == "open",
                col(DsarTask.escalated_at).is_(None),
                (col(DsarTask.next_retry_at) <= now) | (col(DsarTask.due_at) < now),
            )
            .order_by(col(DsarTask.next_retry_at)),
            BATCH,
        )
        for task in unanswered:
            unit = Ctx(session, settings, ctx.clock, task.tenant_id, "job:task-redelivery")
            if task.due_at < now:
                await escalate(unit, task, f"no answer by the task's due time {task.due_at:%Y-%m-%d %H:%M} UTC")
            elif task.attempt >= settings.task_max_attempts:
                await escalate(unit, task, f"not acknowledged after {task.attempt} publications")
            else:
                await republish(unit, task)
        return len(unanswered)


async def purge_expired_content(ctx: JobContext) -> int:
    """Delete expired packages' content and expired notifications' addresses and bodies."""
    now = ctx.clock.now()
    async with ctx.database.session() as session:
        count = await purge_expired(session, now)
        rows = await claim(
            session,
            select(Notification).where(col(Notification.payload_enc).is_not(None), col(Notification.expires_at) < now),
            1000,
        )
        for notification in rows:
            notification.payload_enc = None
            session.add(notification)
        return count + len(rows)


JOBS = [
    PeriodicJob("dsar.deadlines", check_deadlines, interval_s=60.0),
    PeriodicJob("dsar.task-redelivery", redeliver_tasks, interval_s=30.0),
    PeriodicJob("dsar.purge", purge_expired_content, interval_s=3600.0),
]
