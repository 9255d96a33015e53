"""Bad input is a problem and changes nothing; tenancy and scopes on every endpoint; overrides need a reason."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlmodel import func, select

from services.breach.models import Incident
from shared.events.topics import BREACH_EVENTS
from tests.integration.breach.support import INCIDENT, WRITER, assert_problem, breach_service, staged
from tests.support.stack import Infra, RunningService, auth

pytestmark = pytest.mark.integration
H = auth("acme", *WRITER)


async def incidents(svc: RunningService) -> int:
    async with svc.runtime.database.session() as session:
        return int((await session.exec(select(func.count()).select_from(Incident))).one())


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"aware_at": "2026-03-02T10:00:00Z"}, "InvalidIncident"),  # after now (09:00)
        ({"aware_at": "2026-03-02T07:00:00Z"}, "InvalidIncident"),  # before detection (07:30)
        ({"jurisdictions": ["eu-gdpr", "atlantis"]}, None),
        ({"approximate_subjects": -1}, None),
        ({"approximate_records": -5}, None),
        ({"aware_at": "2026-03-02T08:00:00"}, "NaiveDatetime"),
        ({"nature": []}, None),
    ],
    ids=[
        "aware-in-future",
        "aware-before-detection",
        "unknown-jurisdiction",
        "negative-people",
        "negative-records",
        "naive-time",
        "no-nature",
    ],
)
async def test_bad_reports_are_problems_and_change_nothing(
    infra: Infra, topic_prefix: str, change: dict[str, Any], rule: str | None
) -> None:
    async with breach_service(infra, topic_prefix) as svc:
        response = await svc.client.post("/v1/incidents", json=INCIDENT | change, headers=H)
        body = assert_problem(response, 422)
        if rule:
            assert body["rule"] == rule
        else:
            assert body["errors"]
        assert await incidents(svc) == 0
        assert await staged(svc, BREACH_EVENTS) == 0


async def test_tenancy_and_scopes(infra: Infra, topic_prefix: str) -> None:
    async with breach_service(infra, topic_prefix) as svc:
        assert_problem(await svc.client.post("/v1/incidents", json=INCIDENT), 401)
        assert_problem(await svc.client.post("/v1/incidents", json=INCIDENT, headers=auth("acme", "breach:read")), 403)
        created = await svc.client.post("/v1/incidents", json=INCIDENT, headers=H)
        iid = created.json()["id"]
        other = auth("globex", "breach:admin")
        for method, path, body in [
            ("GET", f"/v1/incidents/{iid}", None),
            ("PATCH", f"/v1/incidents/{iid}", {"containment": "x"}),
            ("GET", f"/v1/incidents/{iid}/timeline", None),
            ("GET", f"/v1/incidents/{iid}/deadlines", None),
            ("POST", f"/v1/incidents/{iid}/affected-subjects", {"subject_refs": ["c" * 64]}),
            ("POST", f"/v1/incidents/{iid}/notices", {"kind": "individuals"}),
            ("POST", f"/v1/incidents/{iid}/close", {"reason": "x"}),
            ("POST", f"/v1/incidents/{iid}/decision", {"risk": "risk", "reason": "x"}),
            ("GET", f"/v1/notices/{uuid.uuid4()}", None),
        ]:
            response = await svc.client.request(method, path, json=body, headers=other)
            assert_problem(response, 404)
        assert (await svc.client.get("/v1/incidents", headers=other)).json() == []
        listed = await svc.client.get("/v1/incidents", headers=auth("acme", "breach:read"))
        assert [i["id"] for i in listed.json()] == [iid]
        raw = await svc.client.post(
            f"/v1/incidents/{iid}/affected-subjects", json={"subject_refs": ["ada@x.io"]}, headers=H
        )
        assert_problem(raw, 422)  # only keyed references, never raw identifiers


async def test_override_needs_a_reason_and_moves_the_clocks(infra: Infra, topic_prefix: str) -> None:
    async with breach_service(infra, topic_prefix) as svc:
        iid = (
            await svc.client.post("/v1/incidents", json=INCIDENT | {"jurisdictions": ["eu-gdpr", "us-ca"]}, headers=H)
        ).json()["id"]
        scored = await svc.client.post(
            f"/v1/incidents/{iid}/assessments",
            json={
                "data_sets": [{"category": "simple"}],
                "ease_of_identification": "negligible",
                "rationale": "Names only, pseudonymised.",
            },
            headers=H,
        )
        assert scored.json()["risk"] == "unlikely_risk" and scored.json()["notify_authority"] is False
        deadlines = {
            (d["jurisdiction"], d["audience"]): d
            for d in (await svc.client.get(f"/v1/incidents/{iid}/deadlines", headers=H)).json()
        }
        assert deadlines[("eu-gdpr", "authority")]["status"] == "not_applicable"
        assert deadlines[("us-ca", "individuals")]["due_at"] == "2026-04-01T08:00:00Z"  # 30 days, statute's own test

        before = await staged(svc, BREACH_EVENTS)
        no_reason = await svc.client.post(
            f"/v1/incidents/{iid}/decision", json={"risk": "risk", "reason": " "}, headers=H
        )
        assert assert_problem(no_reason, 422)["rule"] == "MissingOverrideReason"
        assert await staged(svc, BREACH_EVENTS) == before

        override = await svc.client.post(
            f"/v1/incidents/{iid}/decision", json={"risk": "risk", "reason": "Customers are minors."}, headers=H
        )
        assert override.status_code == 201, override.text
        decision = override.json()
        assert decision["basis"] == "override" and decision["override_reason"] == "Customers are minors."
        assert "score said unlikely_risk" in decision["rationale"]
        incident = (await svc.client.get(f"/v1/incidents/{iid}", headers=H)).json()
        assert incident["risk"] == "risk" and incident["notify_authority"] is True
        gdpr = next(d for d in incident["deadlines"] if d["jurisdiction"] == "eu-gdpr" and d["audience"] == "authority")
        assert gdpr["status"] == "open" and gdpr["due_at"] == "2026-03-05T08:00:00Z"
        history = (await svc.client.get(f"/v1/incidents/{iid}/assessments", headers=H)).json()
        assert [a["basis"] for a in history] == ["enisa", "override"]
