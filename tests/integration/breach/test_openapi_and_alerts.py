"""The OpenAPI page shows example notices; escalation points come from the settings."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from services.breach.models import DeadlineAlert
from tests.integration.breach.support import INCIDENT, WRITER, breach_service
from tests.support.stack import Infra, auth

pytestmark = pytest.mark.integration


async def test_openapi_shows_example_notices(infra: Infra, topic_prefix: str) -> None:
    async with breach_service(infra, topic_prefix) as svc:
        schema = (await svc.client.get("/openapi.json")).json()
        examples = schema["components"]["schemas"]["NoticeOut"]["examples"]
        assert [e["kind"] for e in examples] == ["authority", "controller", "individuals"]
        authority = examples[0]["body"]
        for heading in (
            "(a) Nature of the breach",
            "(b) Data protection officer",
            "(c) Likely consequences",
            "(d) Measures taken or proposed",
        ):
            assert heading in authority
        assert "What you can do" in examples[2]["body"]
        assert schema["components"]["schemas"]["IncidentIn"]["examples"][0]["aware_at"]
        assert "/v1/notices/{notice_id}/send" in schema["paths"]


async def test_escalation_points_are_configurable(infra: Infra, topic_prefix: str) -> None:
    async with breach_service(infra, topic_prefix, escalation_hours=[48, 12]) as svc:
        created = await svc.client.post("/v1/incidents", json=INCIDENT, headers=auth("acme", *WRITER))
        authority = next(d for d in created.json()["deadlines"] if d["audience"] == "authority")
        async with svc.runtime.database.session() as session:
            rows = await session.exec(select(DeadlineAlert).where(col(DeadlineAlert.deadline_id) == authority["id"]))
            points = sorted((a.kind, a.offset_s // 3600, a.fire_at.isoformat()) for a in rows.all())
        assert points == [
            ("escalation", 12, "2026-03-04T20:00:00+00:00"),
            ("escalation", 48, "2026-03-03T08:00:00+00:00"),
            ("overdue", 0, "2026-03-05T08:00:00+00:00"),
        ]
