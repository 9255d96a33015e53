"""Bad input is a problem and changes nothing; tenancy and scopes on every endpoint; overrides need a reason."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlmodel import func, select

from services.breach.models import Incident, IncidentSequence
from services.breach.service.incidents import next_reference_number
from shared.events.topics import BREACH_EVENTS
from shared.runtime.db import Database
from shared.runtime.migrations import upgrade
from tests.integration.breach.support import INCIDENT, NOW, WRITER, assert_problem, breach_service, staged
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


async def test_concurrent_reports_get_distinct_references_numbered_per_tenant_and_year(
    infra: Infra, topic_prefix: str
) -> None:
    async with breach_service(infra, topic_prefix) as svc:
        answers = await asyncio.gather(*(svc.client.post("/v1/incidents", json=INCIDENT, headers=H) for _ in range(20)))
        assert [answer.status_code for answer in answers] == [201] * 20
        assert sorted(answer.json()["reference"] for answer in answers) == [f"BR-2026-{n:04d}" for n in range(1, 21)]
        # The sequence is per year of awareness and per tenant.
        last_year = INCIDENT | {"detected_at": "2025-12-31T07:30:00Z", "aware_at": "2025-12-31T08:00:00Z"}
        answer = await svc.client.post("/v1/incidents", json=last_year, headers=H)
        assert answer.json()["reference"] == "BR-2025-0001"
        answer = await svc.client.post("/v1/incidents", json=INCIDENT, headers=auth("globex", *WRITER))
        assert answer.json()["reference"] == "BR-2026-0001"
        answer = await svc.client.post("/v1/incidents", json=INCIDENT, headers=H)
        assert answer.json()["reference"] == "BR-2026-0021"


async def test_the_counter_migration_goes_on_from_the_references_already_given(infra: Infra) -> None:
    name = f"breach_{uuid.uuid4().hex[:10]}"
    infra.postgres.create_databases([name])
    url = infra.postgres.url(name)
    await asyncio.to_thread(upgrade, "breach", url, COUNTER_MIGRATION_PARENT)
    database = Database(url, pool_size=1)
    try:
        async with database.session() as session:
            # Only the columns the table has at that revision: the model has grown since.
            query = text("SELECT column_name FROM information_schema.columns WHERE table_name = 'incident'")
            existing = set((await session.exec(query)).scalars())  # type: ignore[call-overload]
            for tenant, reference in (("acme", "BR-2025-0003"), ("acme", "BR-2026-0005"), ("acme", "BR-2026-0002"),
                                      ("globex", "BR-2026-0001")):  # fmt: skip
                row = Incident(
                    tenant_id=tenant, reference=reference, title="t", description="d", detected_at=NOW,
                    aware_at=NOW, reporter="r", role="controller", created_at=NOW, updated_at=NOW,
                )  # fmt: skip
                table = Incident.metadata.tables["incident"]
                values = {c.name: getattr(row, c.name) for c in table.columns if c.name in existing}
                await session.exec(insert(table).values(values))
        await asyncio.to_thread(upgrade, "breach", url, "head")
        async with database.session() as session:
            rows = (await session.exec(select(IncidentSequence))).all()
            assert sorted((r.tenant_id, r.year, r.last) for r in rows) == [
                ("acme", 2025, 3),
                ("acme", 2026, 5),
                ("globex", 2026, 1),
            ]
            assert await next_reference_number(session, "acme", 2026) == 6
            assert await next_reference_number(session, "acme", 2024) == 1
    finally:
        await database.dispose()


COUNTER_MIGRATION_PARENT = "9c168079c731"  # the revision before incident_sequence


async def test_the_register_pages_newest_first_without_repeats(infra: Infra, topic_prefix: str) -> None:
    """``offset`` pages on; incidents aware at the same instant neither repeat nor go missing between pages."""
    async with breach_service(infra, topic_prefix) as svc:
        created = [(await svc.client.post("/v1/incidents", json=INCIDENT, headers=H)).json()["id"] for _ in range(5)]
        read = auth("acme", "breach:read")
        pages = [
            [i["id"] for i in (await svc.client.get("/v1/incidents", params=p, headers=read)).json()]
            for p in ({"limit": 2}, {"limit": 2, "offset": 2}, {"limit": 2, "offset": 4}, {"limit": 2, "offset": 6})
        ]
        assert [len(p) for p in pages] == [2, 2, 1, 0]
        assert sorted(i for p in pages for i in p) == sorted(created)  # one awareness: the id orders
        assert_problem(await svc.client.get("/v1/incidents", params={"offset": -1}, headers=read), 422)


async def test_order_clock_lists_the_soonest_due_first(infra: Infra, topic_prefix: str) -> None:
    """A dashboard's short list keeps the incident whose clock runs out first, not the last one reported."""
    async with breach_service(infra, topic_prefix) as svc:
        ids = {}
        for hour in (8, 6, 7):
            times = {"detected_at": f"2026-03-02T0{hour - 1}:30:00Z", "aware_at": f"2026-03-02T0{hour}:00:00Z"}
            ids[hour] = (await svc.client.post("/v1/incidents", json=INCIDENT | times, headers=H)).json()["id"]
        read = auth("acme", "breach:read")
        by_awareness = (await svc.client.get("/v1/incidents", headers=read)).json()
        assert [i["id"] for i in by_awareness] == [ids[8], ids[7], ids[6]]
        by_clock = await svc.client.get("/v1/incidents", params={"order": "clock", "limit": 2}, headers=read)
        assert [i["id"] for i in by_clock.json()] == [ids[6], ids[7]]
        # Closing stops the clocks: the incident goes after every one with a clock still running.
        closed = await svc.client.post(f"/v1/incidents/{ids[6]}/close", json={"reason": "Handled."}, headers=H)
        assert closed.status_code == 200, closed.text
        by_clock = await svc.client.get("/v1/incidents", params={"order": "clock"}, headers=read)
        assert [i["id"] for i in by_clock.json()] == [ids[7], ids[8], ids[6]]
        assert_problem(await svc.client.get("/v1/incidents", params={"order": "severity"}, headers=read), 422)
