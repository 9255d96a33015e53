"""Breach write p99 under 50 concurrent clients: reporting an incident.

The breach API is being built: until ``POST /v1/incidents`` exists this scenario is skipped
("not available yet"). When it lands, adjust ``PATH`` and ``BODY`` to its schema if needed.
"""

from __future__ import annotations

from bench.context import BenchContext
from bench.results import ScenarioResult
from bench.runners import write_p99

TITLE = "breach write p99, 50 concurrent clients (report an incident)"
ORDER = 40
BASELINES = ("baseline_http",)

PATH = "/v1/incidents"
BODY = (
    '{"title": "bench incident {n}", "description": "A laptop holding a customer export was stolen.", '
    '"detected_at": "2026-03-02T07:40:00Z", "aware_at": "2026-03-02T08:15:00Z", "reporter": "bench", '
    '"nature": ["confidentiality"], "systems": ["crm"], "data_categories": ["contact details"], '
    '"data_subject_categories": ["customers"], "approximate_subjects": 120, "approximate_records": 400, '
    '"jurisdictions": ["eu-gdpr"], "role": "controller"}'
)


async def run(ctx: BenchContext) -> ScenarioResult:
    """POST an incident at 50 connections, or skip while the endpoint does not exist."""
    return await write_p99(ctx, name="breach_write_p99", title=TITLE, service="breach", path=PATH, body=BODY)
