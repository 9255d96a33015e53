"""Consent bulk import (planned): target ≥ 20,000 rows/s. Skipped until the import endpoint exists."""

from __future__ import annotations

from bench.context import BenchContext
from bench.results import ScenarioResult
from bench.runners import pending

TITLE = "consent bulk import: ≥ 20,000 rows/s"
ORDER = 16


async def run(ctx: BenchContext) -> ScenarioResult:
    """Skipped until POST /v1/imports exists."""
    return await pending(ctx, name="consent_bulk_import", title=TITLE, service="consent", method="POST",
                         path="/v1/imports",
                         plan="import 200k rows, poll the job to the end, rows/s and rejections")  # fmt: skip
