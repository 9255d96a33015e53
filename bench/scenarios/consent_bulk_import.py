"""Consent bulk import: 100k NDJSON rows (1M with --full) through the import API; target ≥ 20,000 rows/s.

The file is generated (emails as identifiers, as a product's export would carry; 80% granted, 10%
denied, 10% withdrawn; one row in 1,000 deliberately bad, to exercise the rejected-row report) and
sent with the client code of ``privops consent import`` (``sdk.consent_import.run_import``:
``POST /v1/imports``, chunks of 10,000 rows (the CLI's default) at ``?offset=N``, two in flight, ``/complete``).

Two rates, both from the moment the job is opened:
- into the database: rows / time until the last chunk was committed (each chunk is one transaction
  holding its records, projection rows, outbox rows and rejections);
- with every event published: accepted rows / time until the consent service's outbox has no
  unpublished row left (the relay marks a row published once the broker acknowledged all its
  events, acks=all).

Then, with the clock stopped, the topic is read from where it ended when the import opened: every
accepted row's event must be there (this run's purpose is in each of them), or there is no figure.
Reading the topic while the import runs would put the bench's own fetching and parsing on the two
cores it measures (against a remote stack, without its database, it is followed as it runs).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.context import BROKER_PRODUCE, BenchContext
from bench.results import ScenarioResult, Series, Target
from bench.scenarios._consent import ensure_purpose
from bench.scenarios._infra import Curve, TopicTally, scalar, size_label
from sdk.consent_import import CHUNK_ROWS as CLI_CHUNK_ROWS
from sdk.consent_import import ImportProgress, run_import
from shared.bus.outbox import PACK_COUNT_HEADER, PACKED_EVENT_TYPE
from shared.events.topics import CONSENT_EVENTS

TITLE = "consent bulk import: 100k NDJSON rows (1M with --full) through the API, ≥ 20,000 rows/s"
ORDER = 16
BASELINES = ("baseline_broker",)
TIMEOUT_S = 240
FULL_TIMEOUT_S = 900

ROWS = 100_000
FULL_ROWS = 1_000_000
QUICK_ROWS = 30_000
CHUNK_ROWS = CLI_CHUNK_ROWS
BAD_EVERY = 1000
PURPOSE = "bench_import"  # + the run id: the run's events are told apart on the topic by their purpose
TARGET = Target(">=", 20_000)
DRAIN_TIMEOUT_S = 240.0
PROGRESS_S = 0.5  # a point of the progress curves
DRAIN_POLL_S = 0.05  # how often the outbox is asked whether it is drained: the figure is this close to the moment
UNPUBLISHED = "SELECT count(*) FROM outbox WHERE published_at IS NULL"
PUBLISHED_SINCE = (  # events the broker acknowledged since $1 (a packed row counts its events)
    f"SELECT coalesce(sum(CASE WHEN event_type = '{PACKED_EVENT_TYPE}' THEN (headers->>'{PACK_COUNT_HEADER}')::int "
    "ELSE 1 END), 0) FROM outbox WHERE published_at >= $1"
)


def purpose_of(run_id: str) -> str:
    """The purpose of this run's imported rows."""
    return f"{PURPOSE}_{run_id}"


def ndjson_rows(count: int, run_id: str, now: datetime) -> list[str]:
    """``count`` import rows as NDJSON lines; every ``BAD_EVERY``-th row has no valid date (it must be rejected)."""
    decisions = ("granted",) * 8 + ("denied", "withdrawn")
    lines = []
    for i in range(1, count + 1):
        occurred = (now - timedelta(days=1 + i % 700, seconds=i % 86_400)).strftime("%Y-%m-%dT%H:%M:%SZ")
        row = {
            "subject_kind": "email",
            "subject": f"import-{run_id}-{i}@example.com",
            "purpose": purpose_of(run_id),
            "decision": decisions[i % len(decisions)],
            "occurred_at": "yesterday" if i % BAD_EVERY == 0 else occurred,
            "channel": "import",
            "collector": "bench",
        }
        lines.append(json.dumps(row, separators=(",", ":")) + "\n")
    return lines


def expected_rejections(count: int) -> int:
    """How many rows of ``ndjson_rows(count)`` are bad."""
    return count // BAD_EVERY


async def run(ctx: BenchContext) -> ScenarioResult:
    """Generate the file, import it, wait until every event is on Kafka; rows/s at both points."""
    name = "consent_bulk_import"
    base = ctx.url("consent")
    if base is None:
        return ScenarioResult.skipped(name, TITLE, "no URL for the consent service in this run")
    rows = ctx.size(ROWS, full=FULL_ROWS, quick=QUICK_ROWS)
    await ensure_purpose(ctx, purpose_of(ctx.run_id))
    folder = ctx.stack.work_dir if ctx.stack is not None else Path(tempfile.gettempdir())
    path = folder / f"bench-import-{ctx.run_id}.ndjson"
    text = "".join(ndjson_rows(rows, ctx.run_id, datetime.now(UTC)))
    await asyncio.to_thread(path.write_text, text)
    try:
        return await _import(ctx, name, base, path, rows, len(text.encode()) / 1e6)
    finally:
        path.unlink(missing_ok=True)


async def _import(ctx: BenchContext, name: str, base: str, path: Path, rows: int, megabytes: float) -> ScenarioResult:
    result = ScenarioResult(name, TITLE)
    topic = f"{ctx.topic_prefix}{CONSENT_EVENTS}"
    marker = f'"{purpose_of(ctx.run_id)}"'.encode()
    # With the stack's database at hand, the outbox says what the broker acknowledged (rows are marked
    # published only then) and the topic is read after the clock stopped; otherwise it is followed.
    counter = (
        TopicTally(ctx.kafka_bootstrap, topic, lambda value: int(marker in value), follow=not ctx.local)
        if ctx.kafka_bootstrap
        else None
    )
    async with contextlib.AsyncExitStack() as stack:
        if counter is not None:
            await stack.enter_async_context(counter)
        stored = Curve(time.perf_counter())
        published = Curve(stored.started)
        lock = threading.Lock()

        committed = [0.0]  # when the last chunk's answer came (it is sent once its transaction committed)

        def progress(p: ImportProgress, _read: int) -> None:
            with lock:
                committed[0] = time.perf_counter()
                stored.add(p.rows_done)

        def send() -> ImportProgress:
            headers = ctx.auth_headers()
            with httpx.Client(base_url=base, headers=headers, timeout=300.0) as client:
                return run_import(client, path, fmt="ndjson", chunk_rows=CHUNK_ROWS, on_progress=progress)

        async def published_so_far() -> int:
            if ctx.local:
                return await scalar(ctx, "consent", PUBLISHED_SINCE, opened_at)
            return counter.records if counter else 0

        opened_at = datetime.now(UTC)
        begun = time.perf_counter()
        stored.started = published.started = begun
        stored.add(0)
        importing = asyncio.create_task(asyncio.to_thread(send))
        while not importing.done():
            await asyncio.wait({importing}, timeout=PROGRESS_S)  # no wait past the end
            if counter:
                counter.check()
            published.add(await published_so_far())
        final = await importing
        in_db = committed[0] or time.perf_counter()

        drained_at = None
        deadline = time.perf_counter() + DRAIN_TIMEOUT_S
        next_point = 0.0
        while time.perf_counter() < deadline:
            if counter:
                counter.check()
            if ctx.local:  # one cheap count (the unpublished rows' index) per check
                finished = await scalar(ctx, "consent", UNPUBLISHED) == 0
            else:
                finished = counter is None or counter.records >= final.accepted
            now = time.perf_counter()
            if finished:
                drained_at = now
            if finished or now >= next_point:  # a progress point every PROGRESS_S, as during the import
                published.add(await published_so_far())
                next_point = now + PROGRESS_S
            if finished:
                break
            await asyncio.sleep(DRAIN_POLL_S)
        on_topic = 0
        if counter is not None:  # the clock has stopped: now read what is there
            if not await counter.catch_up(DRAIN_TIMEOUT_S):
                result.notes.append(f"the topic could not be read to its end within {DRAIN_TIMEOUT_S:.0f} s")
            on_topic = counter.records
            if drained_at is not None and on_topic < final.accepted:
                drained_at = None  # acknowledged, yet not all on the topic: no figure

    db_s = in_db - begun
    rejected_ok = final.rejected == expected_rejections(rows)
    result.metrics += [
        ctx.compared("rows_per_s", f"{size_label(rows)} rows into the database", final.rows_done / db_s, "rows/s",
                     None, target=TARGET),
        ctx.compared("db_s", "time until the last chunk committed", db_s, "s", None, higher_is_better=False,
                     headline=False),
    ]  # fmt: skip
    if counter is None and not ctx.local:
        result.notes.append("events not followed: no broker or database to watch (pass --target-kafka)")
    elif drained_at is None:
        result.metrics.append(
            ctx.compared("events_per_s", "rows with their events published", None, "rows/s", BROKER_PRODUCE,
                         target=TARGET)
        )  # fmt: skip
        result.notes.append(
            f"the events were not all published within {DRAIN_TIMEOUT_S:.0f} s after the import: "
            f"{on_topic} of {final.accepted} on the topic"
        )
    else:
        total_s = drained_at - begun
        result.metrics += [
            ctx.compared("events_per_s", "rows with their events published (outbox drained, on Kafka)",
                         final.accepted / total_s, "rows/s", BROKER_PRODUCE, target=TARGET),
            ctx.compared("events_s", "time until the last event was on Kafka", total_s, "s", None,
                         higher_is_better=False, headline=False),
            ctx.compared("drain_after_s", "events still draining after the last chunk", drained_at - in_db, "s",
                         None, higher_is_better=False, headline=False),
        ]  # fmt: skip
    result.metrics += [
        ctx.compared("accepted", "rows accepted", float(final.accepted), "rows", None, headline=False),
        ctx.compared("rejected", "rows rejected (1 in 1,000 is bad on purpose)", float(final.rejected), "rows", None,
                     headline=False),
    ]  # fmt: skip
    if not rejected_ok:
        result.notes.append(f"expected {expected_rejections(rows)} rejected rows, the job reported {final.rejected}")
    if counter is not None and on_topic > final.accepted:
        result.notes.append(f"{on_topic - final.accepted} more events on {topic} than imported rows (redelivered?)")
    result.notes.append(
        f"import {final.import_id}: {final.rows_done:,} rows in chunks of {CHUNK_ROWS:,} ({megabytes:.0f} MB of "
        "NDJSON), sent with sdk.consent_import.run_import (the code of `privops consent import`)"
    )
    result.series += [
        Series("import_progress", "rows committed", "seconds since the import opened", "rows",
               *_xy(stored.thinned())),
    ]  # fmt: skip
    if counter is not None:
        result.series.append(
            Series("import_progress", "events on Kafka", "seconds since the import opened", "rows",
                   *_xy(published.thinned()))
        )  # fmt: skip
    return result


def _xy(points: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    return [t for t, _ in points], [v for _, v in points]
