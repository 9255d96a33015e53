"""Consent check cost against data size: the same wrk load at 10k, 100k and 1M consent records (10M with --full).

The check reads the projection (``consent_state``, one row per subject and purpose) kept beside the
append-only records (``consent_record``). Both are seeded by SQL (``generate_series``), one size
after the other: each step adds the rows that bring the tables to the next size, then ANALYZE, and
its time is measured. Subjects are synthetic references (``b`` × 55 + a 9-digit number), so wrk
draws a random subject across the whole table for every request (``{rand}``): the load reads
different rows all over the table, not a warm few.

At each size: p50/p99 and throughput at 16 connections, each with its ratio to the 10k size and
to the bare FastAPI + asyncpg baseline. "Flat" is judged on p50 (≤ 1.25× the 10k figure; p99 on a
shared 2-core machine is too noisy to carry the verdict alone).

10M records take several minutes to seed (about 9M rows in each of two tables), which does not
fit the 15-minute budget of ``make bench`` next to the other scenarios: the default run stops at
1M, and ``--full`` adds 10M.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.context import BASELINE_LABELS, HTTP_P50_C16, HTTP_P99_C16, HTTP_RPS, BenchContext, record_latency
from bench.results import Metric, ScenarioResult, Series, Target
from bench.runners import failures_note, load_run
from bench.scenarios._consent import ensure_purpose
from bench.scenarios._infra import database, size_label
from bench.wrk import Load, WrkResult

TITLE = "consent check against data size: 10k → 1M records (10M with --full), p50/p99/throughput per size"
ORDER = 45
BASELINES = ("baseline_http",)
NEEDS_LOCAL_SERVICES = True
TIMEOUT_S = 300
FULL_TIMEOUT_S = 1200

SIZES = (10_000, 100_000, 1_000_000)
FULL_SIZES = (*SIZES, 10_000_000)
QUICK_SIZES = (10_000, 100_000)
PURPOSE = "bench_scale"
CONNECTIONS = 16
REF_PREFIX = "b" * 55
REF_BASE = 100_000_000  # subject n is REF_PREFIX + str(REF_BASE + n): always 64 hexadecimal characters
FLAT = Target("<=", 1.25, on="ratio")

SEED_STATE = """
INSERT INTO consent_state (tenant_id, subject_ref, purpose, decision, decided_at, rank, expires_at, expired,
                           notice_version, record_id, updated_at)
SELECT $1, $3 || ($4::bigint + g)::text, $2, 'granted', now() - interval '1 day', 0,
       now() - interval '1 day' + interval '3 years', false, NULL, lpad(to_hex(g), 32, '0')::uuid, now()
FROM generate_series($5::bigint, $6::bigint) AS g
"""
SEED_RECORDS = """
INSERT INTO consent_record (id, tenant_id, subject_ref, purpose, decision, channel, occurred_at, recorded_at,
                            source, expires_at, proof)
SELECT lpad(to_hex(g), 32, '0')::uuid, $1, $3 || ($4::bigint + g)::text, $2, 'granted', 'bench',
       now() - interval '1 day', now(), 'import', now() - interval '1 day' + interval '3 years', '{}'::jsonb
FROM generate_series($5::bigint, $6::bigint) AS g
"""


def subject_ref(n: int) -> str:
    """The synthetic subject reference of seeded subject ``n`` (1-based)."""
    return f"{REF_PREFIX}{REF_BASE + n}"


def check_load(ctx: BenchContext, rows: int) -> Load:
    """GET /v1/checks for a random seeded subject among the first ``rows``."""
    path = f"/v1/checks?subject_ref={REF_PREFIX}{{rand}}&purpose={PURPOSE}"
    return Load("GET", path, headers=ctx.auth_headers(), rand_min=REF_BASE + 1, rand_max=REF_BASE + rows)


@dataclass
class SizePoint:
    """The figures at one data size."""

    rows: int
    seed_s: float
    run: WrkResult

    @property
    def label(self) -> str:
        """``10k``, ``1M``…"""
        return size_label(self.rows)


async def seed_to(ctx: BenchContext, have: int, want: int) -> float:
    """Add subjects ``have+1 … want`` to the projection and the records; return the seconds it took."""
    begun = time.perf_counter()
    async with database(ctx, "consent") as conn:
        args = (ctx.tenant, PURPOSE, REF_PREFIX, REF_BASE, have + 1, want)
        await conn.execute(SEED_STATE, *args)
        await conn.execute(SEED_RECORDS, *args)
        await conn.execute("ANALYZE consent_state")
        await conn.execute("ANALYZE consent_record")
    return time.perf_counter() - begun


async def verify_answer(ctx: BenchContext, rows: int) -> str | None:
    """One check of the last seeded subject must say "granted"; return what went wrong, if anything."""
    import httpx

    base = ctx.url("consent")
    assert base is not None
    async with httpx.AsyncClient(base_url=base, timeout=10.0) as client:
        response = await client.get(
            "/v1/checks", params={"subject_ref": subject_ref(rows), "purpose": PURPOSE}, headers=ctx.auth_headers()
        )
    if response.status_code != 200:
        return f"GET /v1/checks answered {response.status_code}: {response.text[:200]}"
    result = response.json()["results"][0]
    if not result["allowed"] or result["reason"] != "granted":
        return f"a seeded subject was answered {result}"
    return None


async def run(ctx: BenchContext) -> ScenarioResult:
    """Seed up to each size and load the check at 16 connections; compare every size with 10k and the baseline."""
    name = "consent_check_scale"
    if ctx.url("consent") is None:
        return ScenarioResult.skipped(name, TITLE, "no URL for the consent service in this run")
    await ensure_purpose(ctx, PURPOSE)
    sizes = FULL_SIZES if ctx.full else QUICK_SIZES if ctx.quick else SIZES
    result = ScenarioResult(name, TITLE)
    points: list[SizePoint] = []
    have = 0
    for rows in sizes:
        seed_s = await seed_to(ctx, have, rows)
        have = rows
        if problem := await verify_answer(ctx, rows):
            return ScenarioResult.failed(name, TITLE, f"at {size_label(rows)} records: {problem}")
        run_ = await load_run(ctx, "consent", check_load(ctx, rows), label=f"consent-check-{size_label(rows)}",
                              connections=CONNECTIONS, duration_s=ctx.seconds(8), max_requests=200_000)  # fmt: skip
        points.append(SizePoint(rows, seed_s, run_))
        record_latency(result, run_)
        if note := failures_note(run_):
            result.notes.append(note)
    result.metrics += size_metrics(ctx, points)
    result.series += size_series(ctx, points)
    if not ctx.full:
        result.notes.append(
            "10M records are measured with `python -m bench --full` only: seeding the 9M more rows (two tables) "
            "takes minutes, beyond the 15-minute budget of the default run next to the other scenarios"
        )
    result.notes.append(
        "seeding: " + ", ".join(f"{p.label} in {p.seed_s:.1f} s" for p in points) + " (projection + records, by SQL)"
    )
    return result


def size_metrics(ctx: BenchContext, points: list[SizePoint]) -> list[Metric]:
    """Per size: throughput and p99 against the bare baseline, p50/p99/throughput against the 10k size."""
    first = points[0]
    first_label = f"same check at {first.label} records"
    metrics = []
    for p in points:
        is_first = p is first
        p50, p99 = p.run.latency_ms["p50"], p.run.latency_ms["p99"]
        metrics += [
            ctx.compared(f"rps_{p.label}", f"{p.label} records: 200/s, {CONNECTIONS} conns", p.run.ok_rps, "req/s",
                         HTTP_RPS),
            ctx.compared(f"p99_{p.label}", f"{p.label} records: p99", p99, "ms", HTTP_P99_C16,
                         higher_is_better=False),
            ctx.compared(f"p50_{p.label}", f"{p.label} records: p50", p50, "ms", HTTP_P50_C16,
                         higher_is_better=False, headline=False),
        ]  # fmt: skip
        if is_first:
            continue
        metrics += [
            Metric(f"p50_{p.label}_vs_first", f"{p.label} records: p50 against {first.label}", p50, "ms",
                   baseline_label=first_label, baseline_value=first.run.latency_ms["p50"], higher_is_better=False,
                   target=FLAT),
            Metric(f"p99_{p.label}_vs_first", f"{p.label} records: p99 against {first.label}", p99, "ms",
                   baseline_label=first_label, baseline_value=first.run.latency_ms["p99"], higher_is_better=False,
                   headline=True),
            Metric(f"rps_{p.label}_vs_first", f"{p.label} records: 200/s against {first.label}", p.run.ok_rps,
                   "req/s", baseline_label=first_label, baseline_value=first.run.ok_rps, headline=True),
        ]  # fmt: skip
    for p in points:
        rate = (p.rows - _previous(points, p)) / p.seed_s if p.seed_s > 0 else None
        metrics.append(
            ctx.compared(f"seed_rate_{p.label}", f"seeding up to {p.label} (projection + records)", rate, "rows/s",
                         None, headline=False)
        )  # fmt: skip
    return metrics


def _previous(points: list[SizePoint], point: SizePoint) -> int:
    index = points.index(point)
    return points[index - 1].rows if index else 0


def size_series(ctx: BenchContext, points: list[SizePoint]) -> list[Series]:
    """Latency and throughput against the number of records (plotted with a log x axis)."""
    x = [float(p.rows) for p in points]
    series = [
        Series("check_latency_vs_size", "consent check p50", "consent records (log scale)", "latency (ms)", x,
               [p.run.latency_ms["p50"] for p in points]),
        Series("check_latency_vs_size", "consent check p99", "consent records (log scale)", "latency (ms)", x,
               [p.run.latency_ms["p99"] for p in points]),
        Series("check_throughput_vs_size", "consent check", "consent records (log scale)", "200 responses/s", x,
               [p.run.ok_rps for p in points]),
    ]  # fmt: skip
    bare_p99, bare_rps = ctx.baseline(HTTP_P99_C16), ctx.baseline(HTTP_RPS)
    if bare_p99 is not None:
        series.append(Series("check_latency_vs_size", BASELINE_LABELS[HTTP_P99_C16] + ", 100k rows",
                             "consent records (log scale)", "latency (ms)", x, [bare_p99] * len(x)))  # fmt: skip
    if bare_rps is not None:
        series.append(Series("check_throughput_vs_size", BASELINE_LABELS[HTTP_RPS] + ", 100k rows",
                             "consent records (log scale)", "200 responses/s", x, [bare_rps] * len(x)))  # fmt: skip
    return series
