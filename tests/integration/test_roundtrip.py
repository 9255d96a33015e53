"""The plumbing end to end: HTTP write → outbox → Kafka → a consumer in another service → its database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.stack import Infra, auth, eventually, run_service

pytestmark = pytest.mark.integration


async def test_withdrawn_consent_reaches_the_retention_service(infra: Infra, topic_prefix: str) -> None:
    consent_settings = infra.settings("consent", infra.fresh_database("consent"), topic_prefix)
    retention_settings = infra.settings("retention", infra.fresh_database("retention"), topic_prefix)
    async with (
        run_service("retention", retention_settings) as retention,
        run_service("consent", consent_settings) as consent,
    ):
        await retention.wait_consumers_ready()
        purpose = {"key": "newsletter", "name": "Newsletter", "lawful_basis": "consent"}
        created = await consent.client.post("/v1/purposes", json=purpose, headers=auth("acme", "consent:admin"))
        assert created.status_code == 201, created.text
        response = await consent.client.post(
            "/v1/consents",
            json={
                "subject": {"kind": "email", "value": "Ada@Example.com"},
                "purpose": "newsletter",
                "decision": "withdrawn",
            },
            headers=auth("acme", "consent:write") | {"x-correlation-id": "corr-roundtrip-1"},
        )
        assert response.status_code == 201, response.text
        subject_ref = response.json()["subject_ref"]
        assert "ada" not in subject_ref.lower()

        async def schedule() -> list[dict[str, object]]:
            listed = await retention.client.get(
                "/v1/schedules", params={"subject_ref": subject_ref}, headers=auth("acme", "retention:read")
            )
            return list(listed.json())

        items = await eventually(schedule)
        assert len(items) == 1
        assert items[0]["category"] == "consent_based"
        assert items[0]["purpose"] == "newsletter"
        assert items[0]["due_at"].startswith("2026-04-01T09:00")
        other_tenant = await retention.client.get(
            "/v1/schedules", params={"subject_ref": subject_ref}, headers=auth("globex", "retention:read")
        )
        assert other_tenant.json() == []
        assert datetime.fromisoformat(items[0]["created_at"]).tzinfo is not None
        assert datetime.fromisoformat(items[0]["due_at"]) > datetime(2026, 3, 2, tzinfo=UTC)
