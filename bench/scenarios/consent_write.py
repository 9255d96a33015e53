"""Consent writes end to end: POST /v1/consents → PostgreSQL → outbox → relay → Kafka.

wrk sends decisions with a different subject each time; a reader positioned at the end of the
consent topic beforehand counts this run's events until every accepted write has arrived. The
end-to-end rate is events delivered / (last arrival − start of the load). Target ≥ 1,000/s.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.context import BROKER_PRODUCE, HTTP_P99_C16, HTTP_RPS, BenchContext, record_latency
from bench.results import ScenarioResult, Series, Target
from bench.runners import failures_note, load_run, probe, unavailable
from bench.scenarios._consent import PURPOSE, consent_load, ensure_purpose
from shared.events.topics import CONSENT_EVENTS

TITLE = "consent write, end to end (HTTP → DB → outbox → Kafka)"
ORDER = 10
BASELINES = ("baseline_http", "baseline_broker")
TIMEOUT_S = 240

CONNECTIONS = 16
SWEEP = (1, 4, 50)
DRAIN_TIMEOUT_S = 90.0
E2E_TARGET = Target(">=", 1000)


@dataclass
class TopicWatch:
    """Counts events carrying a marker on a topic, from the end of the topic when it started."""

    marker: bytes
    count: int = 0
    first_at: float | None = None
    last_at: float | None = None
    arrivals: list[tuple[float, int]] = field(default_factory=list)
    expected: int | None = None
    complete: asyncio.Event = field(default_factory=asyncio.Event)

    def expect(self, count: int) -> None:
        """Set how many events are awaited (known once the load ended)."""
        self.expected = count
        self._check()

    def _check(self) -> None:
        if self.expected is not None and self.count >= self.expected:
            self.complete.set()


async def watch_topic(bootstrap: str, topic: str, watch: TopicWatch, ready: asyncio.Event) -> None:
    """Read ``topic`` from its current end (no consumer group) and count records with the marker."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="latest")
    await consumer.start()
    try:
        await consumer.topics()
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            raise RuntimeError(f"topic {topic} does not exist on {bootstrap}")
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_end(*assigned)
        for tp in assigned:
            await consumer.position(tp)
        ready.set()
        while True:
            batch = await consumer.getmany(timeout_ms=100, max_records=5000)
            now = time.perf_counter()
            got = sum(1 for records in batch.values() for r in records if r.value and watch.marker in r.value)
            if got:
                watch.count += got
                watch.first_at = watch.first_at or now
                watch.last_at = now
                watch.arrivals.append((now, watch.count))
                watch._check()
    finally:
        await consumer.stop()


async def run(ctx: BenchContext) -> ScenarioResult:
    """Warm up, load for ~10 s at 16 connections while watching the topic, then a short concurrency sweep."""
    result = ScenarioResult("consent_write", TITLE)
    if ctx.url("consent") is None:
        return ScenarioResult.skipped(result.name, TITLE, "no URL for the consent service in this run")
    measured = f"bench_e2e_{ctx.run_id}"  # marks this run's events on the topic
    load = consent_load(ctx, measured)
    await ensure_purpose(ctx, PURPOSE)
    await ensure_purpose(ctx, measured)
    answer = await probe(ctx, "consent", consent_load(ctx))
    if answer.missing:
        return unavailable(result.name, TITLE, "consent", load, answer)
    if answer.status != 201:
        return ScenarioResult.failed(result.name, TITLE, f"POST /v1/consents answered {answer.status}: {answer.body}")
    warm = consent_load(ctx)
    await ctx.wrk.run(ctx.url("consent") or "", warm, label="consent-write-warmup", connections=CONNECTIONS,
                      duration_s=2, max_requests=20_000)  # fmt: skip

    watch = TopicWatch(marker=measured.encode())
    watcher: asyncio.Task[None] | None = None
    if ctx.kafka_bootstrap:
        ready = asyncio.Event()
        topic = f"{ctx.topic_prefix}{CONSENT_EVENTS}"
        watcher = asyncio.create_task(watch_topic(ctx.kafka_bootstrap, topic, watch, ready))
        await asyncio.wait_for(ready.wait(), timeout=20)
    try:
        started = time.perf_counter()
        main = await load_run(ctx, "consent", load, label=f"consent-write-c{CONNECTIONS}", connections=CONNECTIONS,
                              duration_s=ctx.seconds(10), max_requests=40_000, warmup_s=0)  # fmt: skip
        load_end = time.perf_counter()
        accepted = await accepted_writes(ctx, measured, main.ok, main.latency_ms["max"])
        if watcher is not None:
            watch.expect(accepted)
            complete = asyncio.create_task(watch.complete.wait())
            await asyncio.wait({complete, watcher}, timeout=DRAIN_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED)
            complete.cancel()
            if watcher.done() and watcher.exception() is not None:
                raise RuntimeError(f"the topic watcher failed: {watcher.exception()!r}")
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    record_latency(result, main)
    if note := failures_note(main):
        result.notes.append(note)
    result.metrics += [
        ctx.compared("http_rps", f"HTTP 201/s, {CONNECTIONS} conns", main.ok_rps, "req/s", HTTP_RPS),
        ctx.compared("p50", f"p50, {CONNECTIONS} conns", main.latency_ms["p50"], "ms", None, higher_is_better=False),
        ctx.compared("p99", f"p99, {CONNECTIONS} conns", main.latency_ms["p99"], "ms", HTTP_P99_C16,
                     higher_is_better=False),
    ]  # fmt: skip
    if watcher is None:
        result.notes.append("end-to-end rate not measured: no broker to watch (pass --target-kafka)")
    else:
        _end_to_end(ctx, result, watch, accepted, started, load_end)

    sweep = []
    for clients in SWEEP:
        one = await ctx.wrk.run(ctx.url("consent") or "", consent_load(ctx),
                                label=f"consent-write-c{clients}", connections=clients,
                                duration_s=ctx.seconds(3), max_requests=20_000)  # fmt: skip
        sweep.append(one)
    runs = sorted([*sweep, main], key=lambda r: r.connections)
    clients_x = [float(r.connections) for r in runs]
    result.series += [
        Series("latency_vs_clients", "consent write p99", "concurrent connections", "p99 (ms)", clients_x,
               [r.latency_ms["p99"] for r in runs]),
        Series("throughput_vs_clients", "consent write", "concurrent connections", "2xx responses/s", clients_x,
               [r.ok_rps for r in runs]),
    ]  # fmt: skip
    return result


async def accepted_writes(ctx: BenchContext, purpose: str, wrk_ok: int, max_latency_ms: float) -> int:
    """Writes the service accepted: counted in its database when local, else wrk's 2xx count.

    wrk does not count the requests still in flight when its time is up, but the service finishes
    them, so the database is the exact figure; it is read once those requests had time to end.
    """
    if ctx.stack is None or not ctx.local:
        return wrk_ok
    await asyncio.sleep(min(5.0, max_latency_ms / 1000 + 0.5))
    sql = f"SELECT count(*) FROM consent_record WHERE purpose = '{purpose}'"
    out = await asyncio.to_thread(ctx.stack.pg.psql, sql, "consent")
    return int(out.strip())


def _end_to_end(
    ctx: BenchContext, result: ScenarioResult, watch: TopicWatch, accepted: int, started: float, load_end: float
) -> None:
    """Metrics of the events' journey to Kafka, and the arrival curve."""
    last = watch.last_at or load_end
    e2e_rate = watch.count / (last - started) if watch.count else 0.0
    result.metrics += [
        ctx.compared("e2e_rate", "events on Kafka/s, end to end", e2e_rate, "events/s", BROKER_PRODUCE,
                     target=E2E_TARGET),
        ctx.compared("drain_s", "last event after the load ended", max(0.0, last - load_end), "s", None,
                     higher_is_better=False),
        ctx.compared("missing", "accepted writes whose event did not arrive", float(max(0, accepted - watch.count)),
                     "events", None, higher_is_better=False, target=Target("<=", 0)),
    ]  # fmt: skip
    if watch.count > accepted:
        result.notes.append(f"{watch.count - accepted} more events than accepted writes (redelivered by the relay?)")
    if watch.arrivals:
        step = max(1, len(watch.arrivals) // 200)
        points = [*watch.arrivals[::step], watch.arrivals[-1]]
        result.series.append(
            Series("e2e_arrivals", "consent events on Kafka", "seconds since the load started", "events arrived",
                   [t - started for t, _ in points], [float(c) for _, c in points])
        )  # fmt: skip
