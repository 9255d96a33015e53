"""Retention at scale: 1 million due subject schedules found and their sweep commands published in < 30 s.

The schedules are seeded by SQL straight into the retention database, already due (nothing is
moved in time), for a system registered with the category ``account``. The service runs its job
``retention.schedules`` on an interval: this run starts it with ``RETENTION_SCHEDULE_JOB_INTERVAL_S=1``
(bench/stack.py), so the job picks the rows up within about a second of the seed's commit; there is
no endpoint to trigger it. The clock starts at the commit and stops when:

- found: no seeded schedule is ``pending`` any more (each was claimed and turned into a command);
- published: the outbox holds no unpublished row and the end offsets of ``privops.retention.sweeps``
  grew by the number of subject sweep commands the job recorded (``sweep_run``).

Adding a schedule stays constant time: the median of 30 sequential ``POST /v1/accounts/closures``
on a near-empty table, and again once the million rows are in the table (after the sweep).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import httpx

from bench.context import BenchContext
from bench.results import Metric, ScenarioResult, Series, Target
from bench.scenarios._infra import Curve, TopicTally, database, size_label
from bench.stack import RETENTION_SCHEDULE_INTERVAL_S
from shared.events.topics import RETENTION_SWEEPS

TITLE = "retention: 1M due schedules found and sweep commands published < 30 s; adding one stays constant time"
ORDER = 60
NEEDS_LOCAL_SERVICES = True
TIMEOUT_S = 300

SCHEDULES = 1_000_000
QUICK_SCHEDULES = 200_000
SYSTEM = "bench-accounts"
SEEDED_PREFIX = b"bench-due-"  # the seeded subject references: 'bench-due-' || n
CATEGORY = "account"
ADDS = 30
PUBLISH_TARGET = Target("<", 30)
CONSTANT = Target("<=", 1.5, on="ratio")
PUBLISH_TIMEOUT_S = 150.0

SEED = """
INSERT INTO subject_schedule (id, tenant_id, subject_ref, category, action, reason, status, due_at,
                              event_at, created_at)
SELECT gen_random_uuid(), $1, 'bench-due-' || n, $2, 'delete', 'account closed', 'pending',
       now() - interval '1 hour' - (n % 1000) * interval '1 second', now() - interval '1 hour',
       now() - interval '1 hour'
FROM generate_series(1, $3::integer) AS n
"""
PENDING = "SELECT count(*) FROM subject_schedule WHERE status = 'pending' AND due_at <= now() AND tenant_id = $1"
UNPUBLISHED = "SELECT count(*) FROM outbox WHERE published_at IS NULL"
COMMANDS = """
SELECT count(*), coalesce(sum(subject_count), 0) FROM sweep_run
WHERE kind = 'subject' AND tenant_id = $1 AND requested_at >= $2
"""


def subjects_in(value: bytes) -> int:
    """How many seeded subjects a sweep command carries (0: not a command for them)."""
    return value.count(b'"' + SEEDED_PREFIX)


async def add_latency(client: httpx.AsyncClient, prefix: str, count: int = ADDS) -> list[float]:
    """Seconds taken by ``count`` sequential account closures (each one schedule added)."""
    timings = []
    for i in range(count):
        begun = time.perf_counter()
        response = await client.post("/v1/accounts/closures", json={"subject_ref": f"{prefix}-{i}"})
        timings.append(time.perf_counter() - begun)
        if response.status_code != 201:
            raise RuntimeError(f"POST /v1/accounts/closures answered {response.status_code}: {response.text[:300]}")
    return timings


async def run(ctx: BenchContext) -> ScenarioResult:
    """Seed 1M due schedules, time the job until every command is on Kafka, time additions before and after."""
    name = "retention_sweep_1m"
    base = ctx.url("retention")
    if base is None or ctx.kafka_bootstrap is None:
        return ScenarioResult.skipped(name, TITLE, "needs the retention service and broker of this run")
    size = QUICK_SCHEDULES if ctx.quick else SCHEDULES
    async with httpx.AsyncClient(base_url=base, timeout=30.0, headers=ctx.auth_headers()) as client:
        system = await client.put(f"/v1/systems/{SYSTEM}", json={"categories": [CATEGORY]})
        if system.status_code not in (200, 201):
            return ScenarioResult.failed(name, TITLE, f"PUT /v1/systems/{SYSTEM} answered {system.status_code}")
        before = await add_latency(client, f"bench-{ctx.run_id}-empty")
        async with (
            database(ctx, "retention") as conn,
            TopicTally(ctx.kafka_bootstrap, f"{ctx.topic_prefix}{RETENTION_SWEEPS}", subjects_in) as topic,
        ):
            rows_before = int(await conn.fetchval("SELECT count(*) FROM subject_schedule"))
            seed_begun = time.perf_counter()
            started_db: datetime = await conn.fetchval("SELECT now()")
            await conn.execute(SEED, ctx.tenant, CATEGORY, size)
            committed = time.perf_counter()
            outcome = await _follow(ctx, conn, topic, committed, started_db)
            rows_after = int(await conn.fetchval("SELECT count(*) FROM subject_schedule"))
        after = await add_latency(client, f"bench-{ctx.run_id}-full")

    result = ScenarioResult(name, TITLE)
    label = size_label(size)
    seed_s = committed - seed_begun
    found_s, published_s = outcome.found_s, outcome.published_s
    result.metrics += [
        ctx.compared("published_s", f"{label} due schedules: seed commit → last command on Kafka", published_s, "s",
                     None, higher_is_better=False, target=PUBLISH_TARGET),
        ctx.compared("found_s", f"{label} due schedules: seed commit → all claimed", found_s, "s", None,
                     higher_is_better=False, headline=True),
        ctx.compared("rate", "schedules/s, seed commit → published (so far, if the wait ended)",
                     outcome.subjects_on_topic / (published_s or PUBLISH_TIMEOUT_S), "rows/s", None, headline=True),
        ctx.compared("commands", "subject sweep commands published", float(outcome.commands), "commands", None,
                     headline=False),
        ctx.compared("seed_s", f"seeding {label} schedules by SQL (not part of the figure)", seed_s, "s", None,
                     higher_is_better=False, headline=False),
    ]  # fmt: skip
    empty_ms, full_ms = statistics.median(before) * 1000, statistics.median(after) * 1000
    result.metrics += [
        ctx.compared("add_empty_ms", f"add a schedule, {rows_before:,} rows in the table (median of {ADDS})", empty_ms,
                     "ms", None, higher_is_better=False, headline=True),
        Metric("add_full_ms", f"add a schedule, {rows_after:,} rows in the table (median of {ADDS})", full_ms, "ms",
               baseline_label=f"the same with {rows_before:,} rows", baseline_value=empty_ms,
               higher_is_better=False, target=CONSTANT),
    ]  # fmt: skip
    if outcome.subjects != size:
        result.notes.append(f"the commands carry {outcome.subjects:,} subjects, {size:,} were seeded")
    if outcome.timed_out:
        result.notes.append(
            f"not every command was published within {PUBLISH_TIMEOUT_S:.0f} s: {outcome.commands:,} recorded, "
            f"{outcome.on_topic:,} on the topic; the job was still running during the second series of additions"
        )
    result.notes += [
        f"{outcome.commands:,} commands carrying {outcome.subjects:,} subject references; "
        f"read back on {RETENTION_SWEEPS}: {outcome.on_topic:,} commands, {outcome.subjects_on_topic:,} subjects",
        f"the job runs every {RETENTION_SCHEDULE_INTERVAL_S:g} s in this run (RETENTION_SCHEDULE_JOB_INTERVAL_S): "
        "up to that much of the figure is the wait for its next tick",
        f"add a schedule: p90 {_p90(before):.1f} ms with {rows_before:,} rows, {_p90(after):.1f} ms with "
        f"{rows_after:,} rows (Python client, sequential)",
    ]
    for curve, curve_name in (
        (outcome.claimed, "schedules claimed"),
        (outcome.published, "subjects in commands on Kafka"),
    ):
        points = curve.thinned()
        result.series.append(
            Series("retention_progress", curve_name, "seconds since the seed committed", "schedules",
                   [t for t, _ in points], [v for _, v in points])
        )  # fmt: skip
    return result


@dataclass
class Followed:
    """What the poll saw: when the schedules were all claimed and the commands all published."""

    claimed: Curve
    published: Curve
    found_s: float | None = None
    published_s: float | None = None
    commands: int = 0
    subjects: int = 0
    on_topic: int = 0
    subjects_on_topic: int = 0

    @property
    def timed_out(self) -> bool:
        """True when the commands were not all on the topic in time."""
        return self.published_s is None


async def _follow(
    ctx: BenchContext,
    conn: asyncpg.Connection,
    topic: TopicTally,
    committed: float,
    started_db: datetime,
) -> Followed:
    """Poll until every seeded schedule is claimed and every command is on the topic."""
    seen = Followed(Curve(committed), Curve(committed))
    pending_at_start: int | None = None
    deadline = committed + PUBLISH_TIMEOUT_S
    while time.perf_counter() < deadline:
        pending = int(await conn.fetchval(PENDING, ctx.tenant))
        now = time.perf_counter()
        pending_at_start = pending if pending_at_start is None else pending_at_start
        seen.claimed.add(max(0, pending_at_start - pending), now)
        if pending == 0 and seen.found_s is None:
            seen.found_s = now - committed
        topic.check()
        seen.on_topic, seen.subjects_on_topic = topic.records, topic.items
        commands, subjects = await conn.fetchrow(COMMANDS, ctx.tenant, started_db)
        seen.commands, seen.subjects = int(commands), int(subjects)
        seen.published.add(seen.subjects_on_topic)
        complete = seen.found_s is not None and seen.commands and seen.on_topic >= seen.commands
        if complete and int(await conn.fetchval(UNPUBLISHED)) == 0:
            seen.published_s = time.perf_counter() - committed
            break
        await asyncio.sleep(0.25)
    return seen


def _p90(timings: list[float]) -> float:
    ordered = sorted(timings)
    return ordered[int(0.9 * (len(ordered) - 1))] * 1000
