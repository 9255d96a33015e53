"""Consent read by id (GET /v1/consents/{id}): the platform's path next to the bare baseline's.

Same shape of work as the baseline (one row by primary key), plus everything privops adds: the
JWT check, tenancy, the ORM, problem handling, metrics middleware.
"""

from __future__ import annotations

from bench.context import HTTP_P99_C16, HTTP_RPS, BenchContext, record_latency
from bench.results import ScenarioResult
from bench.runners import failures_note, load_run
from bench.scenarios._consent import seed
from bench.wrk import Load

TITLE = "consent read by id (GET /v1/consents/{id})"
ORDER = 20
BASELINES = ("baseline_http",)
TIMEOUT_S = 120

SEED = 500
CONNECTIONS = 16


async def run(ctx: BenchContext) -> ScenarioResult:
    """Seed records, then read them by id under wrk at 16 connections."""
    if ctx.url("consent") is None:
        return ScenarioResult.skipped("consent_read", TITLE, "no URL for the consent service in this run")
    records = await seed(ctx, SEED)
    load = Load("GET", "/v1/consents/{id}", headers=ctx.auth_headers(), ids=[record_id for record_id, _ in records])
    main = await load_run(ctx, "consent", load, label=f"consent-read-c{CONNECTIONS}", connections=CONNECTIONS,
                          duration_s=ctx.seconds(8), max_requests=100_000)  # fmt: skip
    result = ScenarioResult("consent_read", TITLE)
    record_latency(result, main)
    if note := failures_note(main):
        result.notes.append(note)
    result.metrics += [
        ctx.compared("rps", f"200/s, {CONNECTIONS} conns", main.ok_rps, "req/s", HTTP_RPS),
        ctx.compared("p50", f"p50, {CONNECTIONS} conns", main.latency_ms["p50"], "ms", None, higher_is_better=False),
        ctx.compared("p99", f"p99, {CONNECTIONS} conns", main.latency_ms["p99"], "ms", HTTP_P99_C16,
                     higher_is_better=False),
    ]  # fmt: skip
    return result
