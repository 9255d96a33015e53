"""The retention API: policies, versions, the default pack, systems, holds, intake; bad input changes nothing."""

from __future__ import annotations

import pytest

from tests.integration.retention.support import ADMIN, READ, TENANT, retention
from tests.support.stack import Infra, auth

pytestmark = pytest.mark.integration

PROSPECTS = {
    "category": "prospect",
    "period": "P3Y",
    "clock_start": "last_contact",
    "action": "delete",
    "legal_reference": "CNIL",
}


async def test_default_pack_installs_once_for_the_callers_tenant(infra: Infra, topic_prefix: str) -> None:
    async with retention(infra, topic_prefix) as svc:
        first = await svc.client.post("/v1/policies/default-pack", headers=ADMIN)
        assert first.status_code == 201, first.text
        installed = first.json()["installed"]
        assert {p["category"] for p in installed} == {
            "prospect",
            "customer",
            "consent_based",
            "cookie",
            "connection_log",
            "invoice",
            "account",
        }
        customer = next(p for p in installed if p["category"] == "customer")
        assert (customer["period"], customer["action"], customer["archive_period"]) == (
            "P1Y",
            "archive_then_delete",
            "P5Y",
        )
        assert all(p["version"] == 1 and p["source"] == "default_pack" for p in installed)
        again = await svc.client.post("/v1/policies/default-pack", headers=ADMIN)
        assert again.json()["installed"] == [] and len(again.json()["kept"]) == 7
        other = await svc.client.get("/v1/policies", headers=auth("globex", "retention:read"))
        assert other.json() == []


async def test_a_policy_change_adds_a_version_and_keeps_the_old_one(infra: Infra, topic_prefix: str) -> None:
    async with retention(infra, topic_prefix) as svc:
        created = await svc.client.post("/v1/policies", json=PROSPECTS, headers=ADMIN)
        assert created.status_code == 201, created.text
        policy_id = created.json()["policy_id"]
        duplicate = await svc.client.post("/v1/policies", json=PROSPECTS, headers=ADMIN)
        assert duplicate.status_code == 409
        changed = await svc.client.put(f"/v1/policies/{policy_id}", json={**PROSPECTS, "period": "P2Y"}, headers=ADMIN)
        assert changed.status_code == 200, changed.text
        assert changed.json()["version"] == 2
        history = (await svc.client.get(f"/v1/policies/{policy_id}", headers=READ)).json()
        assert [(v["version"], v["period"], v["is_current"]) for v in history] == [(1, "P3Y", False), (2, "P2Y", True)]
        current = (await svc.client.get("/v1/policies", headers=READ)).json()
        assert [(p["version"], p["period"]) for p in current] == [(2, "P2Y")]
        hidden = await svc.client.get(f"/v1/policies/{policy_id}", headers=auth("globex", "retention:read"))
        assert hidden.status_code == 404


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"category": "pets"}, "UnknownCategory"),
        ({"action": "shred"}, "UnknownAction"),
        ({"period": "-P1Y"}, "InvalidPeriod"),
        ({"period": "three years"}, "InvalidPeriod"),
        ({"period": "P0D"}, "InvalidPeriod"),
        ({"clock_start": "birthday"}, "UnknownClockStart"),
        ({"action": "archive_then_delete"}, "InvalidPolicy"),
        ({"grace_period": "P-3D"}, "InvalidPeriod"),
    ],
)
async def test_bad_policies_are_problems_and_change_nothing(
    infra: Infra, topic_prefix: str, change: dict[str, str], rule: str
) -> None:
    async with retention(infra, topic_prefix) as svc:
        response = await svc.client.post("/v1/policies", json={**PROSPECTS, **change}, headers=ADMIN)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["rule"] == rule
        assert (await svc.client.get("/v1/policies", headers=READ)).json() == []


async def test_every_endpoint_needs_a_token_and_the_right_scope(infra: Infra, topic_prefix: str) -> None:
    async with retention(infra, topic_prefix) as svc:
        for path in ("/v1/policies", "/v1/holds", "/v1/systems", "/v1/sweeps", "/v1/preview", "/v1/report"):
            assert (await svc.client.get(path)).status_code == 401, path
            assert (await svc.client.get(path, headers=auth(TENANT, "consent:admin"))).status_code == 403, path
            assert (await svc.client.get(path, headers=READ)).status_code == 200, path
        writes = [
            ("/v1/policies", PROSPECTS),
            ("/v1/policies/default-pack", None),
            ("/v1/holds", {"subject_ref": "r", "reason": "x"}),
            ("/v1/accounts/closures", {"subject_ref": "r"}),
            ("/v1/sweeps/run", {}),
        ]
        for path, body in writes:
            assert (await svc.client.post(path, json=body, headers=READ)).status_code == 403, path
        assert (await svc.client.put("/v1/systems/crm", json={"categories": []}, headers=READ)).status_code == 403


async def test_holds_need_a_reason_and_a_scope_and_are_released_once(infra: Infra, topic_prefix: str) -> None:
    async with retention(infra, topic_prefix) as svc:
        for body in ({"subject_ref": "ref-1", "reason": "  "}, {"reason": "litigation"}, {"subject_ref": "ref-1"}):
            refused = await svc.client.post("/v1/holds", json=body, headers=ADMIN)
            assert refused.status_code == 422, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
        bad_category = await svc.client.post("/v1/holds", json={"category": "pets", "reason": "r"}, headers=ADMIN)
        assert bad_category.json()["rule"] == "UnknownCategory"
        assert (await svc.client.get("/v1/holds", headers=READ)).json() == []

        placed = await svc.client.post(
            "/v1/holds", json={"subject_ref": "ref-1", "reason": "litigation Dupont"}, headers=ADMIN
        )
        assert placed.status_code == 201, placed.text
        hold = placed.json()
        assert hold["placed_by"] == "privops-cli"
        assert (
            await svc.client.get(f"/v1/holds/{hold['id']}", headers=auth("globex", "retention:read"))
        ).status_code == 404
        released = await svc.client.post(f"/v1/holds/{hold['id']}/release", json={"reason": "settled"}, headers=ADMIN)
        assert released.status_code == 200 and released.json()["released_at"]
        twice = await svc.client.post(f"/v1/holds/{hold['id']}/release", json={}, headers=ADMIN)
        assert twice.status_code == 409
        assert (await svc.client.get("/v1/holds", params={"active": True}, headers=READ)).json() == []


async def test_account_closure_schedules_account_data_in_90_days(infra: Infra, topic_prefix: str) -> None:
    async with retention(infra, topic_prefix) as svc:
        body = {"subject_ref": "ref-closed", "closed_at": "2026-03-01T12:00:00Z"}
        first = await svc.client.post("/v1/accounts/closures", json=body, headers=ADMIN)
        assert first.status_code == 201, first.text
        schedule = first.json()
        assert (schedule["category"], schedule["action"], schedule["status"]) == ("account", "delete", "pending")
        assert schedule["due_at"].startswith("2026-05-30T12:00")  # 90 days
        assert schedule["policy_id"] is None  # the default pack applies until the tenant installs policies
        again = await svc.client.post("/v1/accounts/closures", json=body, headers=ADMIN)
        assert again.status_code == 200 and again.json()["id"] == schedule["id"]
        future = await svc.client.post(
            "/v1/accounts/closures", json={"subject_ref": "x", "closed_at": "2027-01-01T00:00:00Z"}, headers=ADMIN
        )
        assert future.status_code == 422


async def test_systems_register_categories_and_refuse_unknown_ones(infra: Infra, topic_prefix: str) -> None:
    async with retention(infra, topic_prefix) as svc:
        bad = await svc.client.put("/v1/systems/crm", json={"categories": ["prospect", "pets"]}, headers=ADMIN)
        assert bad.status_code == 422 and bad.json()["rule"] == "UnknownCategory"
        assert (await svc.client.get("/v1/systems", headers=READ)).json() == []
        ok = await svc.client.put("/v1/systems/crm", json={"categories": ["prospect", "customer"]}, headers=ADMIN)
        assert ok.status_code == 200, ok.text
        await svc.client.put("/v1/systems/crm", json={"categories": ["prospect"]}, headers=ADMIN)
        listed = (await svc.client.get("/v1/systems", headers=READ)).json()
        assert listed == [{"key": "crm", "description": None, "categories": ["prospect"]}]
