"""Pieces scenarios share: probing an endpoint, a warmed-up wrk run, and the write-p99 runner.

``write_p99`` is the generic "p99 of a write endpoint under 50 concurrent clients" scenario: a
service's scenario module gives it a path and a JSON body template and gets a ScenarioResult;
when the endpoint does not exist yet (404/405) the scenario is skipped, not failed.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from bench.context import HTTP_P99_C50, HTTP_RPS, BenchContext, record_latency
from bench.results import ScenarioResult
from bench.wrk import Load, WrkResult

NOT_AVAILABLE = (404, 405)
WRITE_CLIENTS = 50


@dataclass
class Probe:
    """The answer to one request sent before loading an endpoint."""

    status: int
    body: str

    @property
    def missing(self) -> bool:
        """The route does not exist (yet)."""
        return self.status in NOT_AVAILABLE


async def probe(ctx: BenchContext, service: str, load: Load) -> Probe:
    """Send one request of ``load`` (placeholders filled) and return the status and body."""
    base = ctx.url(service)
    assert base is not None
    fill = {"{n}": f"probe-{ctx.run_id}", "{id}": (load.ids or ["0"])[0], "{rand}": "1"}
    path = (load.paths or [load.path])[0]
    body = load.body
    for placeholder, value in fill.items():
        path = path.replace(placeholder, value)
        body = body.replace(placeholder, value) if body is not None else None
    async with httpx.AsyncClient(base_url=base, timeout=10.0) as client:
        response = await client.request(load.method, path, content=body, headers=dict(load.headers))
    return Probe(response.status_code, response.text[:300])


def unavailable(name: str, title: str, service: str, load: Load, answer: Probe) -> ScenarioResult:
    """The "not available yet" result of a scenario whose endpoint does not exist."""
    return ScenarioResult.skipped(
        name, title, f"not available yet: {load.method} {load.path} on {service} answered {answer.status}"
    )


async def load_run(
    ctx: BenchContext,
    service: str,
    load: Load,
    *,
    label: str,
    connections: int,
    duration_s: float,
    max_requests: int,
    warmup_s: float = 2.0,
) -> WrkResult:
    """A short warm-up (pools, caches), then the measured wrk run."""
    base = ctx.url(service)
    assert base is not None
    if warmup_s > 0:
        await ctx.wrk.run(
            base,
            load,
            label=f"{label}-warmup",
            connections=connections,
            duration_s=warmup_s,
            max_requests=max_requests,
        )
    return await ctx.wrk.run(
        base, load, label=label, connections=connections, duration_s=duration_s, max_requests=max_requests
    )


def failures_note(run: WrkResult) -> str | None:
    """A line about non-2xx responses and socket errors in a run, if there were any."""
    if run.failures == 0:
        return None
    return (
        f"{run.label}: {run.ok} of {run.requests} responses were 2xx "
        f"(4xx {run.c4xx}, 5xx {run.c5xx}, last bad status {run.last_bad_status}, socket errors {run.socket_errors})"
    )


async def write_p99(
    ctx: BenchContext,
    *,
    name: str,
    title: str,
    service: str,
    path: str,
    body: str,
    clients: int = WRITE_CLIENTS,
    duration_s: float = 6.0,
    max_requests: int = 30_000,
) -> ScenarioResult:
    """p50/p99 and throughput of ``POST path`` on ``service`` under ``clients`` concurrent clients."""
    if ctx.url(service) is None:
        return ScenarioResult.skipped(name, title, f"no URL for the {service} service in this run")
    load = Load("POST", path, body=body, headers=ctx.auth_headers(json_body=True))
    answer = await probe(ctx, service, load)
    if answer.missing:
        return unavailable(name, title, service, load, answer)
    if not 200 <= answer.status < 300:
        return ScenarioResult.failed(
            name,
            title,
            f"{load.method} {path} answered {answer.status} to the benchmark's body "
            f"(update the body in bench/scenarios/{name}.py): {answer.body}",
        )
    run = await load_run(
        ctx,
        service,
        load,
        label=f"{name}-c{clients}",
        connections=clients,
        duration_s=ctx.seconds(duration_s),
        max_requests=max_requests,
    )
    result = ScenarioResult(name, title)
    record_latency(result, run)
    result.metrics += [
        ctx.compared(
            "p99", f"p99, {clients} clients", run.latency_ms["p99"], "ms", HTTP_P99_C50, higher_is_better=False
        ),
        ctx.compared("p50", f"p50, {clients} clients", run.latency_ms["p50"], "ms", None, higher_is_better=False),
        ctx.compared("rps", f"2xx/s, {clients} clients", run.ok_rps, "req/s", HTTP_RPS),
    ]
    if note := failures_note(run):
        result.notes.append(note)
    return result


async def pending(
    ctx: BenchContext, *, name: str, title: str, service: str, method: str, path: str, plan: str
) -> ScenarioResult:
    """A scenario waiting for its endpoint: skipped "not available yet" while it answers 404/405.

    Once the endpoint exists the scenario is still skipped, with a line saying it is ready to be
    written (``plan`` says what it will measure), so a new API is never silently left unmeasured.
    """
    if ctx.url(service) is None:
        return ScenarioResult.skipped(name, title, f"no URL for the {service} service in this run")
    load = Load(method, path, body="{}" if method != "GET" else None, headers=ctx.auth_headers(json_body=True))
    answer = await probe(ctx, service, load)
    if answer.missing:
        return unavailable(name, title, service, load, answer)
    return ScenarioResult.skipped(
        name,
        title,
        f"{method} {path} on {service} now answers {answer.status}: write bench/scenarios/{name}.py ({plan})",
    )
