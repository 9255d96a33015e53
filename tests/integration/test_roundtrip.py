"""The plumbing end to end: HTTP write → outbox → Kafka → a consumer in another service → its database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.dsar.models import LegalHold
from shared.rules.subjects import subject_ref
from tests.integration.dsar.support import READ, request_body, serve_dsar
from tests.integration.sdk.support import demo_stores, tasks_of, until_state, verify_by_code
from tests.support.stack import SUBJECT_KEY, Infra, auth, eventually, run_service

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


async def test_a_legal_hold_placed_in_retention_keeps_a_person_through_an_erasure(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    """retention → Kafka → dsar (its copy of the holds) → erase task → the CRM keeps Ada → the certificate says why."""
    retention_settings = infra.settings("retention", infra.fresh_database("retention"), topic_prefix)
    async with (
        run_service("retention", retention_settings) as retention,
        serve_dsar(infra, topic_prefix) as dsar,
        demo_stores(infra, dsar, tmp_path) as stores,
    ):
        await dsar.wait_consumers_ready()
        ada = subject_ref(
            SUBJECT_KEY.encode(), "email", "ada@example.com", tenant="acme"
        )  # as the DSAR service computes it
        reason = "litigation case 2026-CV-0412"
        placed = await retention.client.post(
            "/v1/holds", json={"subject_ref": ada, "reason": reason}, headers=auth("acme", "retention:write")
        )
        assert placed.status_code == 201, placed.text
        hold_id = placed.json()["id"]

        async def heard() -> bool:
            async with dsar.runtime.database.session() as session:
                return (await session.get(LegalHold, uuid.UUID(hold_id))) is not None

        await eventually(heard, timeout=30)
        created = await dsar.open(request_body("erasure"))
        await verify_by_code(dsar, created["id"])
        done = await until_state(dsar, created["id"])

        assert done["outcome"] == "partial"
        crm = (await tasks_of(dsar, created["id"]))["crm"]
        assert (crm["outcome"], crm["records_affected"]) == ("exempt", 0)
        assert crm["exemption"] == f"legal hold {hold_id}: {reason} — Art. 17(3)(e) GDPR"
        assert await stores.crm.count("contacts") == 4  # Ada's contact stays
        certificate = (await dsar.client.get(f"/v1/requests/{created['id']}/certificate", headers=READ)).json()
        in_crm = next(s for s in certificate["certificate"]["systems"] if s["system"] == "crm")
        assert (in_crm["outcome"], in_crm["exemption"]) == ("exempt", crm["exemption"])
        assert in_crm["holds"] == [
            {
                "hold_id": hold_id,
                "reason": reason,
                "scope": {"subject_ref": ada},
                "placed_at": placed.json()["placed_at"],
            }
        ]
        check = {"certificate": certificate["certificate"], "signature": certificate["signature"]}
        assert (await dsar.client.post("/v1/certificates/verify", json=check, headers=READ)).json()["valid"]
