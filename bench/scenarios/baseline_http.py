"""Baseline: bare FastAPI + asyncpg reading one row by primary key from a 100k-row table, under wrk."""

from __future__ import annotations

from bench.baseline_app import ROWS
from bench.context import BenchContext, record_latency
from bench.results import ScenarioResult, Series
from bench.runners import failures_note
from bench.stack import sample_rss
from bench.stats import mb
from bench.wrk import Load

TITLE = "baseline: bare FastAPI + asyncpg, one row by primary key (100k rows)"
ORDER = 0
TIMEOUT_S = 120

SWEEP = (1, 4)  # short extra points for the latency-against-clients curve


async def run(ctx: BenchContext) -> ScenarioResult:
    """Start the baseline app, measure it at 16 and 50 connections (plus a short sweep), stop it."""
    assert ctx.stack is not None
    proc = ctx.stack.start_baseline_app()
    base = proc.url
    load = Load("GET", "/items/{rand}", rand_max=ROWS)
    result = ScenarioResult("baseline_http", TITLE)
    try:
        idle = proc.rss_bytes()
        await ctx.wrk.run(base, load, label="baseline-warmup", connections=16, duration_s=2, max_requests=50_000)
        async with sample_rss([proc]) as rss:
            c16 = await ctx.wrk.run(
                base, load, label="baseline-c16", connections=16, duration_s=ctx.seconds(8), max_requests=100_000
            )
        c50 = await ctx.wrk.run(
            base, load, label="baseline-c50", connections=50, duration_s=ctx.seconds(6), max_requests=100_000
        )
        sweep = [
            await ctx.wrk.run(
                base, load, label=f"baseline-c{c}", connections=c, duration_s=ctx.seconds(3), max_requests=50_000
            )
            for c in SWEEP
        ]
    finally:
        proc.stop()
    runs = sorted([*sweep, c16, c50], key=lambda r: r.connections)
    for one in (c16, c50):
        record_latency(result, one)
        if note := failures_note(one):
            result.notes.append(note)
    result.metrics += [
        ctx.compared("rps_c16", "req/s, 16 conns", c16.ok_rps, "req/s", None),
        ctx.compared("p50_c16", "p50, 16 conns", c16.latency_ms["p50"], "ms", None, higher_is_better=False),
        ctx.compared("p99_c16", "p99, 16 conns", c16.latency_ms["p99"], "ms", None, higher_is_better=False),
        ctx.compared("rps_c50", "req/s, 50 conns", c50.ok_rps, "req/s", None),
        ctx.compared("p99_c50", "p99, 50 conns", c50.latency_ms["p99"], "ms", None, higher_is_better=False),
        ctx.compared("rss_idle", "RSS idle", mb(idle), "MB", None, higher_is_better=False),
        ctx.compared("rss_load", "RSS under load (peak)", mb(rss.peak(proc.name)), "MB", None, higher_is_better=False),
    ]
    clients = [float(r.connections) for r in runs]
    result.series += [
        Series("latency_vs_clients", "baseline p99", "concurrent connections", "p99 (ms)", clients,
               [r.latency_ms["p99"] for r in runs]),
        Series("throughput_vs_clients", "baseline", "concurrent connections", "2xx responses/s", clients,
               [r.ok_rps for r in runs]),
    ]  # fmt: skip
    return result
