"""Scale: due schedules found and their commands published fast; adding a schedule stays constant time.

The default size keeps the suite quick; ``RETENTION_BENCH_SCHEDULES=1000000`` runs the benchmark of the issue.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.integration.retention.support import ADMIN, START, TENANT, clock_of, retention, settings_of
from tests.support.stack import Infra, RunningService, eventually

pytestmark = pytest.mark.integration

SIZE = int(os.environ.get("RETENTION_BENCH_SCHEDULES", "100000"))
FILL = text(
    """
    INSERT INTO subject_schedule (id, tenant_id, subject_ref, category, action, reason, status, due_at,
                                  event_at, created_at)
    SELECT gen_random_uuid(), :tenant, 'ref-' || n, 'account', 'delete', 'account closed', 'pending',
           CAST(:start AS timestamptz) + (n % 1000) * interval '1 second', CAST(:start AS timestamptz),
           CAST(:start AS timestamptz)
    FROM generate_series(1, :size) AS n
    """
)


async def unpublished(svc: RunningService) -> int:
    async with svc.runtime.database.session() as session:
        return int((await session.exec(text("SELECT count(*) FROM outbox WHERE published_at IS NULL"))).one()[0])


async def closure_latency(svc: RunningService, prefix: str, count: int = 30) -> float:
    timings = []
    for i in range(count):
        started = time.perf_counter()
        response = await svc.client.post("/v1/accounts/closures", json={"subject_ref": f"{prefix}-{i}"}, headers=ADMIN)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 201
    return statistics.median(timings)


async def test_due_schedules_are_published_in_bulk_and_adding_one_stays_cheap(infra: Infra, topic_prefix: str) -> None:
    async with retention(infra, topic_prefix, relay_batch_size=2000) as svc:
        await svc.client.put("/v1/systems/shop", json={"categories": ["account"]}, headers=ADMIN)
        empty_table = await closure_latency(svc, "before")
        async with svc.runtime.database.session() as session:
            await session.exec(FILL.bindparams(tenant=TENANT, start=START, size=SIZE))
            await session.exec(text("ANALYZE subject_schedule"))
        full_table = await closure_latency(svc, "after")
        clock_of(svc).advance(timedelta(days=1))  # every bulk row is due, the 60 closures are not

        started = time.perf_counter()
        claimed = await svc.runtime.jobs.run_once("retention.schedules")
        dispatched = time.perf_counter() - started
        await eventually(lambda: _drained(svc), timeout=120, interval=0.2)
        published = time.perf_counter() - started

        assert claimed == SIZE
        async with svc.runtime.database.session() as session:
            commands, subjects = (
                await session.exec(text("SELECT count(*), sum(subject_count) FROM sweep_run WHERE kind = 'subject'"))
            ).one()
        assert subjects == SIZE
        # Commands of up to subjects_per_command refs; a worker's last claim may cut one more.
        assert commands <= -(-SIZE // settings_of(svc).subjects_per_command) + 2 * settings_of(svc).schedule_workers
        print(
            f"\n{SIZE} due schedules: claimed and staged in {dispatched:.1f}s, published in {published:.1f}s; "
            f"adding a schedule: {empty_table * 1000:.1f} ms (empty) vs {full_table * 1000:.1f} ms (full)"
        )
        assert published < 30 * max(1.0, SIZE / 1_000_000)
        assert full_table < max(3 * empty_table, 0.05)


async def _drained(svc: RunningService) -> bool:
    return await unpublished(svc) == 0
