"""Consent check (GET /v1/checks): the hot path of every page view.

Targets from issue 8: throughput ≥ 0.8× the bare baseline; p99 < 10 ms at half of the maximum
load. The half-load run paces each connection with wrk's ``delay()``, so the rate reached is
measured and printed next to the p99. The pause per request is first estimated, then corrected
by up to three 2-second trials until the rate is within 15% of half the maximum. Flat latency from
10 thousand to 10 million records is measured by ``consent_check_scale``.
"""

from __future__ import annotations

from dataclasses import replace

from bench.context import HTTP_P99_C16, HTTP_RPS, BenchContext, record_latency
from bench.results import ScenarioResult, Target
from bench.runners import failures_note, load_run, probe, unavailable
from bench.scenarios._consent import PURPOSE, ensure_purpose, seed
from bench.wrk import Load

TITLE = "consent check (GET /v1/checks): ≥ 0.8× baseline, p99 < 10 ms at half load"
ORDER = 15
BASELINES = ("baseline_http",)
TIMEOUT_S = 120

SEED = 500
CONNECTIONS = 16
PATH = "/v1/checks?subject_ref={id}&purpose=" + PURPOSE
CALIBRATION_TRIALS = 3
CALIBRATION_TOLERANCE = 0.15


def repace_ms(delay_ms: int, connections: int, reached_rps: float, wanted_rps: float) -> int:
    """A new pause per request, from a paced trial that reached ``reached_rps`` with ``delay_ms``.

    Each connection's cycle was ``connections / reached_rps``; what it spent beyond the pause (the
    response time and wrk's timer) is kept, and the pause is set so that the cycle gives ``wanted_rps``.
    """
    if reached_rps <= 0 or wanted_rps <= 0:
        return delay_ms
    overhead_ms = max(0.0, 1000.0 * connections / reached_rps - delay_ms)
    return max(0, round(1000.0 * connections / wanted_rps - overhead_ms))


def pacing_ms(max_rps: float, connections: int, latency_ms: float) -> int:
    """The pause per request that brings ``connections`` looping clients to about half of ``max_rps``."""
    if max_rps <= 0:
        return 0
    cycle_ms = 1000.0 * connections / (max_rps / 2)
    return max(0, round(cycle_ms - latency_ms))


async def calibrate(ctx: BenchContext, paced: Load, wanted_rps: float) -> Load:
    """Short paced trials, the pause corrected after each, until the rate is within 15% of ``wanted_rps``."""
    for attempt in range(CALIBRATION_TRIALS):
        trial = await ctx.wrk.run(ctx.url("consent") or "", paced, label=f"consent-check-pacing-{attempt}",
                                  connections=CONNECTIONS, duration_s=2, max_requests=50_000)  # fmt: skip
        if abs(trial.ok_rps / wanted_rps - 1) <= CALIBRATION_TOLERANCE:
            break
        paced = replace(paced, delay_ms=repace_ms(paced.delay_ms, CONNECTIONS, trial.ok_rps, wanted_rps))
    return paced


async def run(ctx: BenchContext) -> ScenarioResult:
    """Seed granted consents, check them at full load, then at about half of it."""
    name = "consent_check"
    if ctx.url("consent") is None:
        return ScenarioResult.skipped(name, TITLE, "no URL for the consent service in this run")
    await ensure_purpose(ctx, PURPOSE)
    load = Load("GET", PATH, headers=ctx.auth_headers(), ids=["0" * 64])
    answer = await probe(ctx, "consent", load)
    if answer.missing:
        return unavailable(name, TITLE, "consent", load, answer)
    if answer.status != 200:
        return ScenarioResult.failed(name, TITLE, f"GET /v1/checks answered {answer.status}: {answer.body}")
    refs = [subject_ref for _, subject_ref in await seed(ctx, SEED)]
    load = replace(load, ids=refs)
    full = await load_run(ctx, "consent", load, label=f"consent-check-c{CONNECTIONS}", connections=CONNECTIONS,
                          duration_s=ctx.seconds(8), max_requests=150_000)  # fmt: skip
    first_guess = pacing_ms(full.ok_rps, CONNECTIONS, full.latency_ms["p50"] / 2)
    paced = await calibrate(ctx, replace(load, delay_ms=first_guess), full.ok_rps / 2)
    half = await load_run(ctx, "consent", paced, label=f"consent-check-half-c{CONNECTIONS}",
                          connections=CONNECTIONS, duration_s=ctx.seconds(6), max_requests=150_000,
                          warmup_s=0)  # fmt: skip
    result = ScenarioResult(name, TITLE)
    for one in (full, half):
        record_latency(result, one)
        if note := failures_note(one):
            result.notes.append(note)
    result.metrics += [
        ctx.compared("rps", f"200/s, {CONNECTIONS} conns", full.ok_rps, "req/s", HTTP_RPS,
                     target=Target(">=", 0.8, on="ratio")),
        ctx.compared("p50", f"p50, {CONNECTIONS} conns", full.latency_ms["p50"], "ms", None, higher_is_better=False),
        ctx.compared("p99", f"p99, {CONNECTIONS} conns", full.latency_ms["p99"], "ms", HTTP_P99_C16,
                     higher_is_better=False),
        ctx.compared("half_rps", "paced load reached", half.ok_rps, "req/s", HTTP_RPS, headline=False),
        ctx.compared("half_p99", f"p99 at {half.ok_rps / full.ok_rps if full.ok_rps else 0:.0%} of max load",
                     half.latency_ms["p99"], "ms", None, higher_is_better=False, target=Target("<", 10)),
    ]  # fmt: skip
    result.notes.append(
        f"half load: {paced.delay_ms} ms pause per request on each of {CONNECTIONS} connections, "
        f"{half.ok_rps:,.0f} req/s reached = {half.ok_rps / full.ok_rps if full.ok_rps else 0:.0%} of the maximum"
    )
    result.notes.append("flat latency from 10k to 10M records: see consent_check_scale")
    return result
