"""Periodic jobs: deadline checks, expiries, sweeps. Safe to run on every replica.

Jobs claim their work with ``SELECT … FOR UPDATE SKIP LOCKED`` (see ``claim``), so two replicas
never take the same row, and a crashed replica's rows are free again when its transaction dies.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from shared.rules.clock import Clock
from shared.runtime.db import Database
from shared.runtime.metrics import JOB_ITEMS, JOB_RUNS
from shared.runtime.settings import ServiceSettings
from shared.runtime.uow import UnitOfWork

log = structlog.get_logger("privops.jobs")

T = TypeVar("T")
S = TypeVar("S", bound=ServiceSettings)


@dataclass(frozen=True)
class JobContext(Generic[S]):
    """What a job receives: the database, the clock and the service's settings."""

    database: Database
    clock: Clock
    settings: S

    def unit_of_work(self, session: AsyncSession, tenant_id: str, actor: str) -> UnitOfWork[S]:
        """A unit of work of the job in ``session`` (``actor``: ``job:<name>``).

        ``tenant_id`` is the tenant whose rows it works on; a job that claims many tenants' rows
        passes ``""`` and acts for each through ``uow.for_tenant(row.tenant_id)``.
        """
        return UnitOfWork(session, self.settings, self.clock, tenant_id, actor)


JobFn = Callable[[JobContext[Any]], Awaitable[int]]


@dataclass(frozen=True)
class PeriodicJob:
    """A named function run every ``interval_s`` seconds; it returns how many items it handled.

    ``interval_setting`` names a field of the service's settings holding the interval instead;
    with neither, the job runs every ``job_interval_s``.
    """

    name: str
    fn: JobFn
    interval_s: float | None = None
    interval_setting: str | None = None

    def interval(self, settings: ServiceSettings) -> float:
        """Seconds between two runs under ``settings``."""
        if self.interval_s:
            return self.interval_s
        if self.interval_setting:
            return float(getattr(settings, self.interval_setting))
        return settings.job_interval_s


async def claim(session: AsyncSession, statement: SelectOfScalar[T], limit: int = 100) -> Sequence[T]:
    """Lock up to ``limit`` rows of ``statement`` that no other transaction holds, skipping locked ones."""
    result = await session.exec(statement.with_for_update(skip_locked=True).limit(limit))
    return result.all()


class JobRunner:
    """Runs periodic jobs until stopped; one failing run is logged and retried at the next tick."""

    def __init__(self, jobs: Sequence[PeriodicJob], context: JobContext[Any]) -> None:
        self.jobs = {job.name: job for job in jobs}
        self.context = context
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Stop after the current runs."""
        self._stopping.set()

    async def run_once(self, name: str) -> int:
        """Run one job now (tests, the CLI and time travel use this)."""
        job = self.jobs[name]
        service = self.context.settings.service_name
        try:
            items = await job.fn(self.context)
        except Exception:
            JOB_RUNS.labels(service, name, "error").inc()
            raise
        JOB_RUNS.labels(service, name, "ok").inc()
        JOB_ITEMS.labels(service, name).inc(items)
        if items:
            log.info("job.ran", job=name, items=items)
        return items

    async def run(self) -> None:
        """Run every job on its interval, with jitter so replicas do not tick together."""
        await asyncio.gather(*(self._loop(job) for job in self.jobs.values()))

    async def _loop(self, job: PeriodicJob) -> None:
        interval = job.interval(self.context.settings)
        await self._sleep(random.uniform(0, min(interval, 1.0)))
        while not self._stopping.is_set():
            try:
                await self.run_once(job.name)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("job.failed", job=job.name, error=str(exc), error_type=type(exc).__name__)
            await self._sleep(interval * random.uniform(0.9, 1.1))

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            return
