"""privops beside Fides 2.78.2 in the same run: consent read and write, and a privacy request's creation.

Only with ``python -m bench --peer fides``. Each pair of loads is the same wrk run (connections,
duration, warm-up) against privops and then against Fides, minutes apart on the same cores:

- consent read: privops ``GET /v1/checks`` (a seeded person, bearer token); Fides
  ``POST /api/v1/consent-request/preferences`` (a seeded email, its root client's token);
- consent write: privops ``POST /v1/consents`` (a new person each time); Fides
  ``PATCH /api/v1/consent-request/{id}/preferences`` (a seeded consent request);
- request create: privops ``POST /v1/requests`` on dsar (access, manual verification); Fides
  ``POST /api/v1/privacy-request`` (access policy, no identity verification, eager execution).

Fides answers 200 for a privacy-request batch even when an entry failed, so its creations are
counted in its database after the run, not from the status codes. The ratio printed is
privops / Fides: above 1 privops is faster (or its p99 lower, for the latency rows).
"""

from __future__ import annotations

import json

from bench.context import BenchContext, record_latency
from bench.peers import fides as peer
from bench.results import Metric, ScenarioResult
from bench.runners import failures_note, load_run
from bench.scenarios._consent import PURPOSE, consent_load, seed
from bench.wrk import Load, WrkResult

TITLE = f"privops / Fides {peer.VERSION}: consent read, consent write, request create (same wrk loads)"
ORDER = 85
PEER = "fides"
NEEDS_LOCAL_SERVICES = True
TIMEOUT_S = 900
CONNECTIONS = 16
SEED = 300
DURATION_S = 8.0
FIDES = f"Fides {peer.VERSION}"


def request_body() -> str:
    """privops: an access request of a new person, verified by the privacy team."""
    return json.dumps(
        {
            "type": "access",
            "jurisdiction": "eu-gdpr",
            "identifiers": [{"kind": "email", "value": "peer-{n}@example.com"}],
            "channel": "web",
            "verification": "manual",
        }
    )


def fides_loads(fides: peer.Fides, seeded: list[tuple[str, str]]) -> dict[str, Load]:
    """The three Fides loads, against its seeded people."""
    auth = {"Authorization": f"Bearer {fides.token}", "Content-Type": "application/json"}
    plain = {"Content-Type": "application/json"}
    return {
        "read": Load("POST", "/api/v1/consent-request/preferences", body='{"email": "{id}"}', headers=auth,
                     ids=[email for _, email in seeded]),
        "write": Load("PATCH", "/api/v1/consent-request/{id}/preferences",
                      body='{"consent": [{"data_use": "marketing.advertising", "opt_in": true}]}', headers=plain,
                      ids=[request_id for request_id, _ in seeded]),
        "create": Load("POST", "/api/v1/privacy-request", headers=plain,
                       body='[{"identity": {"email": "peer-{n}@example.com"}, "policy_key": "default_access_policy"}]'),
    }  # fmt: skip


async def privops_loads(ctx: BenchContext) -> dict[str, tuple[str, Load]]:
    """The three privops loads (service, load), the check against seeded consents."""
    refs = [ref for _, ref in await seed(ctx, SEED)]
    check = Load("GET", f"/v1/checks?subject_ref={{id}}&purpose={PURPOSE}", headers=ctx.auth_headers(), ids=refs)
    create = Load("POST", "/v1/requests", body=request_body(), headers=ctx.auth_headers(json_body=True))
    return {"read": ("consent", check), "write": ("consent", consent_load(ctx)), "create": ("dsar", create)}


def pair(key: str, label: str, ours: WrkResult, theirs: WrkResult, theirs_ok_rps: float) -> list[Metric]:
    """Throughput and p99 of one load, privops against Fides."""
    return [
        Metric(f"{key}_rps", f"{label}: 2xx/s, {CONNECTIONS} conns", ours.ok_rps, "req/s",
               baseline_label=f"{FIDES} {label}, 2xx/s", baseline_value=theirs_ok_rps),
        Metric(f"{key}_p99", f"{label}: p99, {CONNECTIONS} conns", ours.latency_ms["p99"], "ms",
               baseline_label=f"{FIDES} {label}, p99",
               # no answer in the window: no latency to compare (the note says why)
               baseline_value=theirs.latency_ms["p99"] if theirs.ok else None,
               higher_is_better=False),
    ]  # fmt: skip


async def run(ctx: BenchContext) -> ScenarioResult:
    """Start Fides on this run's PostgreSQL, seed both, and run each load against both."""
    name = "peer_fides"
    if ctx.stack is None:
        return ScenarioResult.skipped(name, TITLE, "needs the local stack")
    fides = await peer.start(ctx.stack)
    seeded = await peer.seed_consents(fides, SEED, ctx.run_id)
    theirs_loads = fides_loads(fides, seeded)
    ours_loads = await privops_loads(ctx)
    result = ScenarioResult(name, TITLE)
    labels = {"read": "consent read", "write": "consent write", "create": "request create"}
    for key, label in labels.items():
        service, ours_load = ours_loads[key]
        seconds = ctx.seconds(DURATION_S)
        ours = await load_run(ctx, service, ours_load, label=f"privops-{key}-c{CONNECTIONS}",
                              connections=CONNECTIONS, duration_s=seconds, max_requests=200_000)  # fmt: skip
        await ctx.wrk.run(fides.proc.url, theirs_loads[key], label=f"fides-{key}-warmup",
                          connections=CONNECTIONS, duration_s=2, max_requests=200_000)  # fmt: skip
        before = _fides_requests(ctx) if key == "create" else 0
        theirs = await ctx.wrk.run(fides.proc.url, theirs_loads[key], label=f"fides-{key}-c{CONNECTIONS}",
                                   connections=CONNECTIONS, duration_s=seconds, max_requests=200_000)  # fmt: skip
        theirs_ok = theirs.ok_rps
        if key == "create":
            # Fides answers a create only once its eager tasks ran: at 16 connections every answer can
            # outlast the run, so its rate is the rows its database gained in the window.
            created = _fides_requests(ctx) - before
            theirs_ok = created / theirs.duration_s if theirs.duration_s else 0.0
            result.notes.append(
                f"Fides privacy requests created in the measured run: {created:,} in {theirs.duration_s:.0f} s, "
                f"counted in its database (wrk saw {theirs.ok:,} answers within its 10 s timeout)"
            )
        for one in (ours, theirs):
            record_latency(result, one)
            if note := failures_note(one):
                result.notes.append(note)
        result.metrics += pair(key, label, ours, theirs, theirs_ok)
    result.notes.append(
        f"Fides {peer.VERSION} from PyPI in its own virtualenv, served by uvicorn on 127.0.0.1 (one process, as "
        "`fides webserver`), its database on this run's PostgreSQL, Redis from Debian; identity verification off, "
        "Celery tasks eager; the pgcrypto placeholder is described in bench/peers/fides.py"
    )
    return result


def _fides_requests(ctx: BenchContext) -> int:
    assert ctx.stack is not None
    return int(ctx.stack.pg.psql("SELECT count(*) FROM privacyrequest", database=peer.DATABASE) or 0)
