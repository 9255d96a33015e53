"""What the periodic jobs do: deadline warnings, task redelivery, purge of expired content.

Each claims rows of every tenant with ``FOR UPDATE SKIP LOCKED`` and acts on each in a unit of work
of the row's tenant.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from services.dsar.models import OPEN_STATES, DsarRequest, DsarTask, ExportPackage, Notification
from services.dsar.service import Job, Uow
from services.dsar.service.tasks import escalate, republish
from shared.events.catalogue.dsar import DsarDeadlineApproaching, DsarDeadlineOverdue
from shared.runtime.jobs import claim

BATCH = 200


async def check_deadlines(ctx: Job) -> int:
    """Stage ``deadline.approaching`` and ``deadline.overdue`` once each for open, running clocks."""
    now = ctx.clock.now()
    async with ctx.database.session() as session:
        # The job's unit of work has no tenant of its own: each claimed request lends it its tenant.
        job: Uow = ctx.unit_of_work(session, "", "job:deadlines")
        window = timedelta(days=job.settings.approaching_days)
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
            await _deadline_event(job.for_tenant(request.tenant_id), request, True)
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
            await _deadline_event(job.for_tenant(request.tenant_id), request, False)
            request.approaching_notified_at = now
            session.add(request)
        return len(overdue) + len(approaching)


async def _deadline_event(uow: Uow, request: DsarRequest, overdue: bool) -> None:
    kind = DsarDeadlineOverdue if overdue else DsarDeadlineApproaching
    await uow.stage(
        kind(
            request_id=request.id,
            request_type=request.request_type,
            subject_ref=request.subject_ref,
            regime=request.regime_id,
            due_at=request.due_at,
        ),
        subject=request.subject_ref,
    )
    uow.audit("deadline.overdue" if overdue else "deadline.approaching", "dsar_request", request.id)


async def redeliver_tasks(ctx: Job) -> int:
    """Re-publish tasks nobody claimed in time (with back-off); escalate after the last try or past due.

    A manual system's task is never re-published (nobody consumes it) nor escalated as a silent store: it has
    no ``next_retry_at``, so it is only picked up once past its due time, and escalated once then (``manual``)
    to remind the privacy team that nobody closed it by hand.
    """
    now = ctx.clock.now()
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
            uow: Uow = ctx.unit_of_work(session, task.tenant_id, "job:task-redelivery")
            if task.manual:
                due = f"{task.due_at:%Y-%m-%d %H:%M} UTC"
                await escalate(uow, task, f"manual task not closed by hand by its due time {due}")
            elif task.due_at < now:
                await escalate(uow, task, f"no answer by the task's due time {task.due_at:%Y-%m-%d %H:%M} UTC")
            elif task.attempt >= uow.settings.task_max_attempts:
                await escalate(uow, task, f"not acknowledged after {task.attempt} publications")
            else:
                await republish(uow, task)
        return len(unanswered)


async def purge_expired_content(ctx: Job) -> int:
    """Delete expired packages' content and expired notifications' addresses and bodies (the rows stay)."""
    now = ctx.clock.now()
    async with ctx.database.session() as session:
        packages = await session.exec(
            select(ExportPackage).where(col(ExportPackage.content).is_not(None), col(ExportPackage.expires_at) < now)
        )
        count = 0
        for package in packages.all():
            package.content, package.purged_at = None, now
            session.add(package)
            count += 1
        notifications = await claim(
            session,
            select(Notification).where(col(Notification.payload_enc).is_not(None), col(Notification.expires_at) < now),
            1000,
        )
        for notification in notifications:
            notification.payload_enc = None
            session.add(notification)
        return count + len(notifications)
