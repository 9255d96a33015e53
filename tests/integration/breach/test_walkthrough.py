"""A breach from report to final notice, with the clock moved across its deadlines (real PostgreSQL and broker)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.events.topics import BREACH_EVENTS, NOTIFICATIONS
from tests.integration.breach.support import (
    INCIDENT,
    REF_A,
    REF_B,
    WRITER,
    assert_problem,
    breach_service,
    published,
    staged,
)
from tests.support.stack import Infra, RunningService, auth

pytestmark = pytest.mark.integration
JOB = "breach.deadlines"
H = auth("acme", *WRITER)


async def post(svc: RunningService, path: str, body: dict[str, Any] | None = None, status: int = 200) -> Any:
    response = await svc.client.post(path, json=body or {}, headers=H)
    assert response.status_code == status, response.text
    return response.json()


def clock_of(deadlines: list[dict[str, Any]], audience: str) -> dict[str, Any]:
    return next(d for d in deadlines if d["jurisdiction"] == "eu-gdpr" and d["audience"] == audience)


async def test_a_breach_from_report_to_final_notice(infra: Infra, topic_prefix: str) -> None:
    async with breach_service(infra, topic_prefix) as svc:
        clock = svc.clock
        incident = await post(svc, "/v1/incidents", INCIDENT, 201)
        iid = incident["id"]
        assert incident["reference"] == "BR-2026-0001" and incident["status"] == "open"
        authority = clock_of(incident["deadlines"], "authority")
        assert authority["due_at"] == "2026-03-05T08:00:00Z"  # 72 hours after awareness, weekend or not
        assert authority["citation"] == "GDPR Art. 33(1)"

        # ENISA: financial data (DPC 3) × fully identifiable (EI 1) + unknown recipients 0.5 + malice 0.5 = 4.
        assessment = await post(
            svc,
            f"/v1/incidents/{iid}/assessments",
            {
                "data_sets": [{"category": "financial"}],
                "ease_of_identification": "maximum",
                "circumstances": {"confidentiality": "unknown_recipients", "malicious_intent": True},
                "rationale": "Attacker exfiltrated the table.",
            },
            201,
        )
        assert (assessment["score"], assessment["severity_level"], assessment["risk"]) == (
            4.0,
            "very_high",
            "high_risk",
        )
        assert assessment["notify_authority"] and assessment["notify_individuals"]
        assert "SE = DPC 3 × EI 1 + CB 1" in assessment["rationale"]
        assert assessment["inputs"]["ease_of_identification"] == "maximum"
        assert (await post(svc, f"/v1/incidents/{iid}/affected-subjects", {"subject_refs": [REF_A, REF_B, REF_A]})) == {
            "added": 2,
            "total": 2,
        }

        # The clock moves across the escalation points and the deadline; each alert fires once.
        await svc.runtime.jobs.run_once(JOB)
        clock.set(datetime(2026, 3, 4, 8, 0, tzinfo=UTC))  # T-24h
        await svc.runtime.jobs.run_once(JOB)
        assert await svc.runtime.jobs.run_once(JOB) == 0
        clock.set(datetime(2026, 3, 5, 4, 0, tzinfo=UTC))  # T-4h
        await svc.runtime.jobs.run_once(JOB)
        clock.set(datetime(2026, 3, 5, 8, 0, tzinfo=UTC))  # at the limit: not yet late
        await svc.runtime.jobs.run_once(JOB)
        clock.advance(timedelta(minutes=1))
        await svc.runtime.jobs.run_once(JOB)
        assert await svc.runtime.jobs.run_once(JOB) == 0

        events = await published(svc, BREACH_EVENTS)
        types = [e.type for e in events]
        assert types[:2] == ["io.privops.breach.reported", "io.privops.breach.assessed"]
        alerts = [
            (e.type.rsplit(".", 1)[1], e.data.get("hours_left"), e.time)
            for e in events
            if e.data.get("audience") == "authority"
        ]
        assert alerts == [
            ("due", 24.0, datetime(2026, 3, 4, 8, 0, tzinfo=UTC)),
            ("due", 4.0, datetime(2026, 3, 5, 4, 0, tzinfo=UTC)),
            ("overdue", None, datetime(2026, 3, 5, 8, 1, tzinfo=UTC)),
        ]
        assert all(e.tenantid == "acme" and e.subject == iid for e in events)

        # A late initial notice must give the reasons for the delay; refusing it changes nothing.
        draft = await post(
            svc,
            f"/v1/incidents/{iid}/notices",
            {"kind": "authority", "jurisdiction": "eu-gdpr", "to_follow": {"approximate_records": "Logs pending."}},
            201,
        )
        assert draft["status"] == "draft" and draft["recipient"] == "CNIL"
        assert "To follow: Logs pending." in draft["body"] and "dpo@acme.test" in draft["body"]
        refused = await svc.client.post(f"/v1/notices/{draft['id']}/send", json={}, headers=H)
        assert assert_problem(refused, 422)["rule"] == "MissingDelayReasons"
        assert await staged(svc, NOTIFICATIONS) == 0
        sent = await post(svc, f"/v1/notices/{draft['id']}/send", {"delay_reasons": "Forensics took 3 days."})
        assert sent["status"] == "sent" and sent["late"] is True and sent["sent_at"] == "2026-03-05T08:01:00Z"
        assert [(d["recipient_ref"], d["status"]) for d in sent["deliveries"]] == [("authority:eu-gdpr", "requested")]
        assert_problem(await svc.client.post(f"/v1/notices/{draft['id']}/send", json={}, headers=H), 409)

        # What was missing is now known: the final notice covers everything and follows the initial one.
        await svc.client.patch(f"/v1/incidents/{iid}", json={"approximate_records": 4800}, headers=H)
        final = await post(
            svc, f"/v1/incidents/{iid}/notices", {"kind": "authority", "stage": "final", "jurisdiction": "eu-gdpr"}, 201
        )
        assert final["previous_notice_id"] == draft["id"] and "about 4,800 records" in final["body"]
        assert (await post(svc, f"/v1/notices/{final['id']}/send"))["late"] is False

        people = await post(svc, f"/v1/incidents/{iid}/notices", {"kind": "individuals"}, 201)
        people = await post(svc, f"/v1/notices/{people['id']}/send")
        assert sorted(d["recipient_ref"] for d in people["deliveries"]) == [REF_A, REF_B]
        # Attached by reference only, nobody can be mailed: each person is reported unreachable, with the reason.
        assert {(d["channel"], d["status"]) for d in people["deliveries"]} == {("none", "unreachable")}
        assert all("affected-contacts" in d["detail"] for d in people["deliveries"])
        delivery = people["deliveries"][0]
        claim = await svc.client.get(
            f"/v1/notices/{people['id']}/deliveries/{delivery['id']}/claim", headers=auth("acme", "notify:claim")
        )
        assert "No address is kept for this person" in assert_problem(claim, 410)["detail"]
        outcome = await post(svc, f"/v1/notices/{people['id']}/deliveries/{delivery['id']}", {"status": "delivered"})
        assert outcome["status"] == "delivered"

        notifications = await published(svc, NOTIFICATIONS)
        # Partitions keep order per key only: compare as a multiset.
        assert sorted((n.data["template"], n.data["recipient_ref"]) for n in notifications) == [
            ("breach.notice.authority", "authority:eu-gdpr"),
            ("breach.notice.authority", "authority:eu-gdpr"),
        ]
        assert all("/claim" in n.data["claim_url"] for n in notifications)

        deadlines = (await svc.client.get(f"/v1/incidents/{iid}/deadlines", headers=H)).json()
        assert clock_of(deadlines, "authority")["status"] == "met"
        assert clock_of(deadlines, "individuals")["status"] == "met"

        closed = await post(svc, f"/v1/incidents/{iid}/close", {"reason": "All notices sent and acknowledged."})
        assert closed["status"] == "closed"
        before = await staged(svc, BREACH_EVENTS)
        refused = await svc.client.post(f"/v1/incidents/{iid}/notices", json={"kind": "individuals"}, headers=H)
        assert assert_problem(refused, 409)["rule"] == "IncidentClosed"
        assert await staged(svc, BREACH_EVENTS) == before

        timeline = (await svc.client.get(f"/v1/incidents/{iid}/timeline", headers=H)).json()
        kinds = [t["kind"] for t in timeline]
        assert kinds[:3] == ["reported", "assessment.enisa", "subjects.attached"]
        assert kinds.count("deadline.escalated") >= 2 and kinds.count("deadline.overdue") == 1
        assert kinds.count("notice.sent") == 3 and kinds[-1] == "closed"
        assert next(t for t in timeline if t["kind"] == "updated")["detail"]["changes"] == {
            "approximate_records": {"from": None, "to": 4800}
        }
