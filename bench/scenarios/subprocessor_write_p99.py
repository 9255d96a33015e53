"""Subprocessor write p99 under 50 concurrent clients: registering a subprocessor.

The subprocessor API is being built: until ``POST /v1/subprocessors`` exists this scenario is
skipped ("not available yet"). When it lands, adjust ``PATH`` and ``BODY`` to its schema if needed.
"""

from __future__ import annotations

from bench.context import BenchContext
from bench.results import ScenarioResult
from bench.runners import write_p99

TITLE = "subprocessor write p99, 50 concurrent clients (register a subprocessor)"
ORDER = 41
BASELINES = ("baseline_http",)

PATH = "/v1/subprocessors"
BODY = (
    '{"name": "Bench Hosting {n}", "legal_entity": "Bench Hosting SAS, 1 rue de la Paix, Paris, France", '
    '"service": "Hosting", "purposes": ["hosting"], "data_categories": ["contact_details"], '
    '"locations": [{"country": "FR"}], "status": "proposed"}'
)


async def run(ctx: BenchContext) -> ScenarioResult:
    """POST a subprocessor at 50 connections, or skip while the endpoint does not exist."""
    return await write_p99(
        ctx, name="subprocessor_write_p99", title=TITLE, service="subprocessor", path=PATH, body=BODY
    )
