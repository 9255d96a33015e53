"""Periodic jobs of the retention service; each claims its rows with FOR UPDATE SKIP LOCKED."""

from __future__ import annotations

from services.retention.service.dispatch import dispatch_due
from services.retention.service.sweeps import retry_unanswered, run_due_sweeps
from services.retention.settings import RetentionSettings
from shared.runtime.jobs import JobContext, PeriodicJob

SWEEP = "retention.sweep"
SCHEDULES = "retention.schedules"
RETRY = "retention.sweep-retry"


def _settings(ctx: JobContext) -> RetentionSettings:
    assert isinstance(ctx.settings, RetentionSettings)
    return ctx.settings


async def sweep(ctx: JobContext) -> int:
    """Sweep every (system, category) whose turn has come."""
    total = 0
    while True:
        async with ctx.database.session() as session:
            swept = await run_due_sweeps(session, _settings(ctx), ctx.clock)
        total += swept
        if swept == 0:
            return total


async def due_schedules(ctx: JobContext) -> int:
    """Publish the commands of every due subject schedule."""
    return await dispatch_due(ctx.database, _settings(ctx), ctx.clock)


async def retry(ctx: JobContext) -> int:
    """Re-send sweeps that got no answer; escalate those out of attempts."""
    async with ctx.database.session() as session:
        return await retry_unanswered(session, _settings(ctx), ctx.clock)


def retention_jobs(settings: RetentionSettings) -> list[PeriodicJob]:
    """The retention jobs with their intervals."""
    return [
        PeriodicJob(SWEEP, sweep, interval_s=settings.sweep_job_interval_s),
        PeriodicJob(SCHEDULES, due_schedules, interval_s=settings.schedule_job_interval_s),
        PeriodicJob(RETRY, retry, interval_s=settings.sweep_job_interval_s),
    ]
