"""Memory: resident memory (RSS, psutil) of each service idle and under load; target ≤ 200 MB each.

Idle is measured twice: right after start-up, and now (after the earlier scenarios). Under load
each service gets 5 s of wrk at 16 connections on what it serves today: consent records
decisions, retention lists schedules, the others answer health, readiness and metrics.
The CPU each service burns with no request at all (periodic jobs, relay, consumers) is noted too.
"""

from __future__ import annotations

import asyncio
import contextlib

import psutil

from bench.context import HTTP_RSS_LOAD, BenchContext
from bench.results import ScenarioResult, Target
from bench.scenarios._consent import PURPOSE, consent_load, ensure_purpose
from bench.stack import Proc, sample_rss
from bench.stats import mb
from bench.wrk import Load
from shared.runtime.auth import SERVICES

TITLE = "memory: RSS of each service idle and under load (≤ 200 MB each)"
ORDER = 90
BASELINES = ("baseline_http",)
NEEDS_LOCAL_SERVICES = True
TIMEOUT_S = 150

TARGET = Target("<=", 200)  # MB
CONNECTIONS = 16
IDLE_CPU_WINDOW_S = 3.0


async def cpu_while_idle(procs: list[Proc], window_s: float) -> dict[str, float]:
    """CPU used by each process over ``window_s`` with no requests (periodic jobs, relay, consumers)."""
    handles = {}
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            handles[proc.name] = psutil.Process(proc.pid)
            handles[proc.name].cpu_percent(None)
    await asyncio.sleep(window_s)
    usage = {}
    for name, handle in handles.items():
        with contextlib.suppress(psutil.Error):
            usage[name] = handle.cpu_percent(None)
    return usage


def service_load(ctx: BenchContext, service: str) -> Load:
    """The load a service can take today."""
    if service == "consent":
        return consent_load(ctx)
    if service == "retention":
        return Load("GET", "/v1/schedules?limit=100", headers=ctx.auth_headers())
    return Load("GET", "/healthz", headers=ctx.auth_headers(), paths=["/healthz", "/readyz", "/metrics"])


async def run(ctx: BenchContext) -> ScenarioResult:
    """Sample RSS idle, then at 10 Hz during a 5 s wrk run per service."""
    result = ScenarioResult("memory", TITLE)
    peaks: dict[str, float] = {}
    await ensure_purpose(ctx, PURPOSE)
    idle_cpu = await cpu_while_idle([p for p in ctx.services.values()], IDLE_CPU_WINDOW_S)
    for service in SERVICES:
        proc = ctx.services.get(service)
        if proc is None:
            continue
        idle_now = proc.rss_bytes()
        async with sample_rss([proc]) as rss:
            loaded = await ctx.wrk.run(
                proc.url,
                service_load(ctx, service),
                label=f"memory-{service}",
                connections=CONNECTIONS,
                duration_s=ctx.seconds(5),
                max_requests=50_000,
            )
        peaks[service] = mb(rss.peak(proc.name))
        if loaded.failures:
            result.notes.append(f"{service}: {loaded.failures} of {loaded.requests} requests failed during the load")
        result.metrics += [
            ctx.compared(f"rss_start_{service}", f"{service}: idle after start", mb(ctx.idle_rss.get(service, 0)),
                         "MB", None, higher_is_better=False, target=TARGET),
            ctx.compared(f"rss_idle_{service}", f"{service}: idle after the scenarios", mb(idle_now), "MB", None,
                         higher_is_better=False, target=TARGET, headline=False),
            ctx.compared(f"rss_load_{service}", f"{service}: peak under load", peaks[service], "MB",
                         HTTP_RSS_LOAD, higher_is_better=False, target=TARGET),
            ctx.compared(f"cpu_idle_{service}", f"{service}: CPU while idle", idle_cpu.get(service), "% of a core",
                         None, higher_is_better=False, headline=False),
        ]  # fmt: skip
    if peaks:
        result.metrics.append(
            ctx.compared("rss_load_total", "all five services under load (sum of peaks)", sum(peaks.values()),
                         "MB", None, higher_is_better=False)
        )  # fmt: skip
    return result
