"""Sector regimes (NIS2, DORA, HIPAA) reported through the API; late drafts; overdue clocks read as such."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.breach.schemas import IncidentIn
from tests.integration.breach.support import INCIDENT, WRITER, assert_problem, breach_service
from tests.support.stack import Infra, RunningService, auth

pytestmark = pytest.mark.integration
H = auth("acme", *WRITER)
SECTOR_FLAGS = ("nis2_entity", "dora_entity", "hipaa_in_scope")


async def post(svc: RunningService, path: str, body: dict[str, Any] | None = None, status: int = 200) -> Any:
    response = await svc.client.post(path, json=body or {}, headers=H)
    assert response.status_code == status, response.text
    return response.json()


def clock(deadlines: list[dict[str, Any]], jurisdiction: str, audience: str) -> dict[str, Any]:
    return next(d for d in deadlines if d["jurisdiction"] == jurisdiction and d["audience"] == audience)


async def test_incidents_under_nis2_and_hipaa_are_reported_with_their_clocks(infra: Infra, topic_prefix: str) -> None:
    async with breach_service(infra, topic_prefix) as svc:
        nis2 = await post(
            svc, "/v1/incidents", INCIDENT | {"jurisdictions": ["eu-gdpr", "eu-nis2"], "nis2_entity": True}, 201
        )
        assert nis2["nis2_entity"] is True and nis2["hipaa_in_scope"] is False
        assert clock(nis2["deadlines"], "eu-nis2", "early_warning")["due_at"] == "2026-03-03T08:00:00Z"
        assert clock(nis2["deadlines"], "eu-nis2", "authority")["due_at"] == "2026-03-05T08:00:00Z"
        assert clock(nis2["deadlines"], "eu-gdpr", "authority")["citation"] == "GDPR Art. 33(1)"

        hipaa = await post(
            svc, "/v1/incidents", INCIDENT | {"jurisdictions": ["us-hipaa"], "hipaa_in_scope": True}, 201
        )
        assert clock(hipaa["deadlines"], "us-hipaa", "individuals")["due_at"] == "2026-05-01T08:00:00Z"  # 60 days
        assert clock(hipaa["deadlines"], "us-hipaa", "authority")["citation"] == "45 CFR §164.408(b)"  # 1,200 people

        # The flag alone brings the sector clocks too; a patch turning it off stops them.
        dora = await post(svc, "/v1/incidents", INCIDENT | {"dora_entity": True}, 201)
        assert clock(dora["deadlines"], "eu-dora", "authority")["due_at"] == "2026-03-03T08:00:00Z"  # 24 h longstop
        patched = await svc.client.patch(f"/v1/incidents/{dora['id']}", json={"dora_entity": False}, headers=H)
        assert patched.status_code == 200, patched.text
        assert patched.json()["dora_entity"] is False
        assert clock(patched.json()["deadlines"], "eu-dora", "authority")["status"] == "not_applicable"


@pytest.mark.parametrize(
    ("jurisdiction", "flag"), [("eu-nis2", "nis2_entity"), ("us-hipaa", "hipaa_in_scope"), ("eu-dora", "dora_entity")]
)
async def test_a_sector_regime_without_its_flag_is_refused_naming_a_real_field(
    infra: Infra, topic_prefix: str, jurisdiction: str, flag: str
) -> None:
    async with breach_service(infra, topic_prefix) as svc:
        response = await svc.client.post("/v1/incidents", json=INCIDENT | {"jurisdictions": [jurisdiction]}, headers=H)
        detail = assert_problem(response, 422)["detail"]
        named = [name for name in SECTOR_FLAGS if name in detail]
        assert named == [flag], detail
        assert flag in IncidentIn.model_fields


async def test_openapi_describes_the_sector_fields_with_an_example(infra: Infra, topic_prefix: str) -> None:
    async with breach_service(infra, topic_prefix) as svc:
        schema = (await svc.client.get("/openapi.json")).json()["components"]["schemas"]["IncidentIn"]
        for name in SECTOR_FLAGS:
            assert schema["properties"][name]["description"], name
        assert any(example.get("nis2_entity") for example in schema["examples"])
        for example in schema["examples"]:
            IncidentIn.model_validate(example)


async def test_a_notice_drafted_after_its_deadline_is_late_from_the_draft(infra: Infra, topic_prefix: str) -> None:
    async with breach_service(infra, topic_prefix) as svc:
        iid = (await post(svc, "/v1/incidents", INCIDENT, 201))["id"]
        body = {"kind": "authority", "jurisdiction": "eu-gdpr", "to_follow": {"approximate_records": "Logs pending."}}
        early = await post(svc, f"/v1/incidents/{iid}/notices", body, 201)
        assert early["late"] is False
        svc.clock.set(datetime(2026, 3, 6, 8, 0, tzinfo=UTC))  # a day after the 72-hour limit
        draft = await post(svc, f"/v1/incidents/{iid}/notices", body | {"delay_reasons": "Forensics took days."}, 201)
        assert draft["late"] is True
        read = await svc.client.get(f"/v1/notices/{draft['id']}", headers=H)
        assert read.json()["late"] is True
        sent = await post(svc, f"/v1/notices/{draft['id']}/send")
        assert sent["status"] == "sent" and sent["late"] is True
        # The individuals' notice answers a clock without a hard limit: never late.
        await post(svc, f"/v1/incidents/{iid}/affected-subjects", {"subject_refs": ["c" * 64]})
        assert (await post(svc, f"/v1/incidents/{iid}/notices", {"kind": "individuals"}, 201))["late"] is False


async def test_a_deadline_past_due_reads_overdue_without_the_job(infra: Infra, topic_prefix: str) -> None:
    async with breach_service(infra, topic_prefix) as svc:
        iid = (await post(svc, "/v1/incidents", INCIDENT, 201))["id"]
        svc.clock.set(datetime(2026, 3, 5, 8, 0, tzinfo=UTC))  # at the limit: not yet overdue
        listed = (await svc.client.get(f"/v1/incidents/{iid}/deadlines", headers=H)).json()
        assert clock(listed, "eu-gdpr", "authority")["status"] == "open"
        svc.clock.set(datetime(2026, 3, 20, 8, 0, tzinfo=UTC))
        listed = (await svc.client.get(f"/v1/incidents/{iid}/deadlines", headers=H)).json()
        assert clock(listed, "eu-gdpr", "authority")["status"] == "overdue"
        # A soft clock ("without undue delay") has no hard limit: past its target it is still open.
        assert clock(listed, "eu-gdpr", "individuals")["status"] == "open"
        view = (await svc.client.get(f"/v1/incidents/{iid}", headers=H)).json()
        assert clock(view["deadlines"], "eu-gdpr", "authority")["status"] == "overdue"
        # Sent late, the clock is met, not overdue.
        body = {"kind": "authority", "jurisdiction": "eu-gdpr", "to_follow": {"approximate_records": "Logs pending."}}
        draft = await post(svc, f"/v1/incidents/{iid}/notices", body | {"delay_reasons": "Forensics."}, 201)
        await post(svc, f"/v1/notices/{draft['id']}/send")
        listed = (await svc.client.get(f"/v1/incidents/{iid}/deadlines", headers=H)).json()
        assert clock(listed, "eu-gdpr", "authority")["status"] == "met"
