"""The data map: systems registered idempotently, the privops services seeded, per tenant."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from shared.runtime.audit import AuditEntry
from tests.integration.dsar.support import ADMIN, READ, TENANT, WRITE, request_body, serve_dsar
from tests.support.stack import Infra, auth, token

pytestmark = pytest.mark.integration
PRIVOPS = [
    "privops-breach",
    "privops-consent",
    "privops-dsar",
    "privops-identity",
    "privops-notify",
    "privops-retention",
    "privops-subprocessor",
]


async def test_registry_is_idempotent_per_tenant_and_seeds_the_privops_services(
    infra: Infra, topic_prefix: str
) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        body = {"name": "CRM", "owner": "sales", "actions": ["erase", "access"], "purposes": ["sales"]}
        first = await dsar.client.put("/v1/systems/crm", json=body, headers=WRITE)
        again = await dsar.client.put("/v1/systems/crm", json={**body, "owner": "ops"}, headers=WRITE)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["owner"] == "ops"
        bad = await dsar.client.put("/v1/systems/crm", json={**body, "actions": ["shred"]}, headers=WRITE)
        assert bad.status_code == 422
        assert (await dsar.client.put("/v1/systems/Bad Key", json=body, headers=WRITE)).status_code == 422
        assert (await dsar.client.post("/v1/systems/setup", headers=WRITE)).status_code == 403
        seeded = await dsar.client.post("/v1/systems/setup", headers=ADMIN)
        assert sorted(s["key"] for s in seeded.json()) == PRIVOPS
        assert (await dsar.client.post("/v1/systems/setup", headers=ADMIN)).status_code == 200
        listed = await dsar.client.get("/v1/systems", headers=READ)
        assert [s["key"] for s in listed.json()] == ["crm", *PRIVOPS]
        assert (await dsar.client.get("/v1/systems", headers=auth("globex", "dsar:read"))).json() == []
        assert (await dsar.client.get("/v1/systems/crm", headers=auth("globex", "dsar:read"))).status_code == 404

        gone = await dsar.client.delete("/v1/systems/crm", headers=ADMIN)
        assert gone.json()["active"] is False
        assert "crm" not in [s["key"] for s in (await dsar.client.get("/v1/systems", headers=READ)).json()]
        unknown = {"subject": {"kind": "email", "value": "ada@example.com"}, "system": "nope", "recipient": "X"}
        assert (await dsar.client.post("/v1/recipients", json=unknown, headers=WRITE)).status_code == 404

        created = await dsar.open(request_body("erasure", verification="manual"))
        verified = await dsar.client.post(
            f"/v1/requests/{created['id']}/verification/manual", json={"evidence_ref": "ID"}, headers=ADMIN
        )
        tasks = await dsar.client.get(f"/v1/requests/{created['id']}/tasks", headers=READ)
        assert verified.json()["state"] == "in_progress"
        assert sorted(t["system"] for t in tasks.json()) == PRIVOPS  # deactivated crm gets no task
        notification = await dsar.client.get(
            "/v1/notifications/00000000-0000-0000-0000-000000000000/claim", headers=ADMIN
        )
        assert notification.status_code == 403  # only the notify service's notify:claim token reads messages


async def test_a_store_client_registers_its_own_system_and_nothing_else(infra: Infra, topic_prefix: str) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        body = {"name": "CRM", "owner": "sales", "actions": ["erase", "access"]}
        crm = {"Authorization": f"Bearer {token(TENANT, 'dsar:task', subject='system:crm')}"}
        assert (await dsar.client.put("/v1/systems/crm", json=body, headers=crm)).status_code == 201
        other = await dsar.client.put("/v1/systems/analytics", json=body, headers=crm)
        assert other.status_code == 403
        assert "own system" in other.json()["detail"]
        manual = {"name": "CRM", "owner": "sales", "manual": True, "instructions": "ask sales"}
        assert (await dsar.client.put("/v1/systems/crm", json=manual, headers=crm)).status_code == 403
        reader = await dsar.client.put("/v1/systems/crm", json=body, headers=READ)
        assert reader.status_code == 403
        # The store's token reads nothing else.
        assert (await dsar.client.get("/v1/systems", headers=crm)).status_code == 403
        assert (await dsar.client.get("/v1/systems/crm", headers=crm)).status_code == 403


async def test_the_audit_log_names_the_person_behind_a_console_action(infra: Infra, topic_prefix: str) -> None:
    """A person's token (from the identity service's sign-in: sub user:<email>) is who the audit entry names."""
    async with serve_dsar(infra, topic_prefix) as dsar:
        created = await dsar.open(request_body("erasure", verification="manual"))
        dpo = {"Authorization": f"Bearer {token(TENANT, 'dsar:admin', subject='user:dpo@acme.example')}"}
        verified = await dsar.client.post(
            f"/v1/requests/{created['id']}/verification/manual", json={"evidence_ref": "passport seen"}, headers=dpo
        )
        assert verified.status_code == 200, verified.text
        async with dsar.runtime.database.session() as session:
            rows = await session.exec(
                select(AuditEntry).where(col(AuditEntry.entity_id) == created["id"]).order_by(col(AuditEntry.id))
            )
            entries = list(rows.all())
        verifications = [e for e in entries if "verif" in e.action]
        assert verifications, [e.action for e in entries]
        assert {e.actor for e in verifications} == {"user:dpo@acme.example"}
