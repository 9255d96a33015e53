"""Retention at scale (planned): 1 million schedules, due ones found and sweeps published < 30 s."""

from __future__ import annotations

from bench.context import BenchContext
from bench.results import ScenarioResult
from bench.runners import pending

TITLE = "retention: 1M schedules, due ones found and sweeps published < 30 s"
ORDER = 60


async def run(ctx: BenchContext) -> ScenarioResult:
    """Skipped until POST /v1/sweeps exists."""
    return await pending(ctx, name="retention_sweep_1m", title=TITLE, service="retention", method="POST",
                         path="/v1/sweeps",
                         plan="seed 1M schedules by SQL, trigger the sweep job, time until every sweep "
                              "command is on Kafka")  # fmt: skip
