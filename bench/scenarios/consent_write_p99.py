"""Consent write p99 under 50 concurrent clients (the generic write-p99 runner)."""

from __future__ import annotations

from bench.context import BenchContext
from bench.results import ScenarioResult
from bench.runners import write_p99
from bench.scenarios._consent import PURPOSE, consent_load, ensure_purpose

TITLE = "consent write p99, 50 concurrent clients"
ORDER = 30
BASELINES = ("baseline_http",)


async def run(ctx: BenchContext) -> ScenarioResult:
    """POST /v1/consents at 50 connections."""
    if ctx.url("consent") is not None:
        await ensure_purpose(ctx, PURPOSE)
    load = consent_load(ctx)
    return await write_p99(ctx, name="consent_write_p99", title=TITLE, service="consent", path=load.path,
                           body=load.body or "")  # fmt: skip
