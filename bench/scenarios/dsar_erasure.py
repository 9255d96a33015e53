"""DSAR erasures (planned): 1,000 requests across 7 systems → all certified, none lost."""

from __future__ import annotations

from bench.context import BenchContext
from bench.results import ScenarioResult
from bench.runners import pending

TITLE = "DSAR: 1,000 erasures across 7 systems, all certified; p50/p99 verification → certificate"
ORDER = 50


async def run(ctx: BenchContext) -> ScenarioResult:
    """Skipped until POST /v1/requests exists."""
    return await pending(ctx, name="dsar_erasure", title=TITLE, service="dsar", method="POST",
                         path="/v1/requests",
                         plan="register 7 demo stores, submit + verify 1,000 erasures, wait for every "
                              "certificate; requests/s and p50/p99 verification → certificate")  # fmt: skip
