"""Routes of every service next to the bare baseline: reads ≥ 0.6×, writes ≥ 0.3×, p99 ≤ 3×.

``consent_read``, ``consent_check`` and ``consent_write`` measure consent's busiest routes; this
scenario measures a read by id, a page of a list and a create of each other service the same way
(wrk at 16 connections), so a route left on a slow path shows up here rather than in production.
Each route is loaded for a few seconds after a one-second warm-up; the objects read are created
first through the same API.

The baseline reads one row by primary key. A read by id does the same work plus what privops adds
(token, tenancy, the row's mapping); a page of a list reads and encodes up to 50 rows, so it is
compared with the same baseline but is not the same work.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from bench.context import HTTP_P99_C16, HTTP_RPS, BenchContext, record_latency
from bench.results import ScenarioResult, Target
from bench.runners import failures_note, load_run
from bench.scenarios import breach_write_p99, subprocessor_write_p99
from bench.scenarios._consent import PURPOSE, ensure_purpose
from bench.scenarios.peer_fides import request_body
from bench.wrk import Load

TITLE = "every service's routes next to the bare baseline (read by id, a page of a list, a create)"
ORDER = 22
BASELINES = ("baseline_http",)
TIMEOUT_S = 240

CONNECTIONS = 16
SECONDS = 4.0
SEEDED = 20  # objects of each kind read by id, in turn
READ_TARGET = Target(">=", 0.6, on="ratio")
WRITE_TARGET = Target(">=", 0.3, on="ratio")
P99_TARGET = Target("<=", 3.0, on="ratio")


@dataclass(frozen=True)
class Route:
    """One route under load: what it is, on which service, and whether it writes."""

    key: str
    label: str
    service: str
    load: Load
    writes: bool = False


def _fill(template: str, n: str) -> str:
    return template.replace("{n}", n)


async def _seed(ctx: BenchContext, service: str, path: str, bodies: list[str]) -> list[str]:
    """POST each body to ``service`` and return the ids of what was created."""
    base = ctx.url(service)
    assert base is not None
    ids: list[str] = []
    async with httpx.AsyncClient(base_url=base, timeout=30.0) as client:
        for body in bodies:
            response = await client.post(path, content=body, headers=ctx.auth_headers(json_body=True))
            if response.status_code not in (200, 201):
                raise RuntimeError(f"{service} POST {path} answered {response.status_code}: {response.text[:300]}")
            ids.append(str(response.json()["id"]))
    return ids


async def _policies(ctx: BenchContext) -> list[str]:
    """The tenant's retention policies (the default pack installed first, if it is not yet)."""
    async with httpx.AsyncClient(base_url=ctx.url("retention") or "", timeout=30.0) as client:
        await client.post("/v1/policies/default-pack", headers=ctx.auth_headers())
        listed = await client.get("/v1/policies", headers=ctx.auth_headers())
    listed.raise_for_status()
    return [str(policy["policy_id"]) for policy in listed.json()]


async def routes(ctx: BenchContext) -> list[Route]:
    """The routes of this run's services, their objects created first."""
    read, write = ctx.auth_headers(), ctx.auth_headers(json_body=True)

    def get(key: str, label: str, service: str, path: str, ids: list[str] | None = None) -> Route:
        return Route(key, label, service, Load("GET", path, headers=read, ids=ids))

    def post(key: str, label: str, service: str, path: str, body: str) -> Route:
        return Route(key, label, service, Load("POST", path, body=body, headers=write), writes=True)

    def seeds(template: str) -> list[str]:
        return [_fill(template, f"matrix-{ctx.run_id}-{i}") for i in range(SEEDED)]

    found: list[Route] = []
    if ctx.url("consent") is not None:
        await ensure_purpose(ctx, PURPOSE)
        found += [
            get("consent_purpose", "consent: read a purpose", "consent", f"/v1/purposes/{PURPOSE}"),
            get("consent_purposes", "consent: list purposes", "consent", "/v1/purposes"),
        ]
    if ctx.url("dsar") is not None:
        ids = await _seed(ctx, "dsar", "/v1/requests", seeds(request_body()))
        found += [
            get("dsar_request", "dsar: read a request", "dsar", "/v1/requests/{id}", ids),
            get("dsar_requests", "dsar: list requests (50)", "dsar", "/v1/requests?limit=50"),
            post("dsar_create", "dsar: receive a request", "dsar", "/v1/requests", _fill(request_body(), "m{n}")),
        ]
    if ctx.url("breach") is not None:
        path, body = breach_write_p99.PATH, breach_write_p99.BODY
        ids = await _seed(ctx, "breach", path, seeds(body))
        found += [
            get("breach_incident", "breach: read an incident", "breach", path + "/{id}", ids),
            get("breach_incidents", "breach: list incidents (50)", "breach", path + "?limit=50"),
            post("breach_create", "breach: report an incident", "breach", path, body),
        ]
    if ctx.url("subprocessor") is not None:
        path, body = subprocessor_write_p99.PATH, subprocessor_write_p99.BODY
        ids = await _seed(ctx, "subprocessor", path, seeds(body))
        found += [
            get("subprocessor_read", "subprocessor: read one", "subprocessor", path + "/{id}", ids),
            post("subprocessor_create", "subprocessor: register one", "subprocessor", path, body),
        ]
    if ctx.url("retention") is not None:
        ids = await _policies(ctx)
        found += [
            get("retention_policy", "retention: read a policy's versions", "retention", "/v1/policies/{id}", ids),
            get("retention_policies", "retention: list policies", "retention", "/v1/policies"),
        ]
    if ctx.url("notify") is not None:
        found += [
            get("notify_profile", "notify: read the profile", "notify", "/v1/profile"),
            get("notify_messages", "notify: list messages (50)", "notify", "/v1/messages?limit=50"),
        ]
    return found


async def run(ctx: BenchContext) -> ScenarioResult:
    """Load each route in turn at 16 connections and compare it with the bare baseline."""
    name = "route_matrix"
    if ctx.url("consent") is None and ctx.url("dsar") is None:
        return ScenarioResult.skipped(name, TITLE, "no service URL in this run")
    result = ScenarioResult(name, TITLE)
    for route in await routes(ctx):
        run_ = await load_run(ctx, route.service, route.load, label=f"{route.key}-c{CONNECTIONS}",
                              connections=CONNECTIONS, duration_s=ctx.seconds(SECONDS), max_requests=60_000,
                              warmup_s=1.0)  # fmt: skip
        record_latency(result, run_)
        if note := failures_note(run_):
            result.notes.append(note)
        result.metrics += [
            ctx.compared(f"{route.key}_rps", f"{route.label}: 2xx/s", run_.ok_rps, "req/s", HTTP_RPS,
                         target=WRITE_TARGET if route.writes else READ_TARGET),
            ctx.compared(f"{route.key}_p99", f"{route.label}: p99", run_.latency_ms["p99"], "ms", HTTP_P99_C16,
                         higher_is_better=False, target=P99_TARGET),
        ]  # fmt: skip
    return result
