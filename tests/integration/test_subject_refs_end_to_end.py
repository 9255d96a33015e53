"""Tenant-keyed references still link a person across services: a consent given, an erasure verified in DSAR,
the consent store finds the records; the same person in another tenant is a different reference, untouched."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.dsar.support import ADMIN, request_body, serve_dsar
from tests.integration.sdk.support import tasks_of
from tests.support.stack import Infra, auth, eventually, run_service

pytestmark = pytest.mark.integration

NEWSLETTER = {"key": "newsletter", "name": "Newsletter", "lawful_basis": "consent"}
ADA = {"kind": "email", "value": " ADA@example.com"}  # DSAR is given "Ada@Example.com": the same person


async def test_an_erasure_in_dsar_reaches_the_consents_of_the_same_tenant_only(infra: Infra, topic_prefix: str) -> None:
    settings = infra.settings("consent", infra.fresh_database("consent"), topic_prefix)
    async with run_service("consent", settings) as consent, serve_dsar(infra, topic_prefix) as dsar:
        await consent.wait_consumers_ready()
        refs = {}
        for tenant in ("acme", "globex"):
            admin = auth(tenant, "consent:admin")
            assert (await consent.client.post("/v1/purposes", json=NEWSLETTER, headers=admin)).status_code == 201
            body = {"subject": ADA, "purpose": "newsletter", "decision": "granted"}
            given = await consent.client.post("/v1/consents", json=body, headers=admin)
            assert given.status_code == 201, given.text
            refs[tenant] = given.json()["subject_ref"]
        assert refs["acme"] != refs["globex"]  # one person, two customers: nothing links them

        assert (await dsar.client.post("/v1/systems/setup", headers=ADMIN)).status_code == 200
        created = await dsar.open(request_body("erasure", verification="manual"))
        assert created["subject_ref"] == refs["acme"]
        verified = await dsar.client.post(
            f"/v1/requests/{created['id']}/verification/manual", json={"evidence_ref": "passport"}, headers=ADMIN
        )
        assert verified.json()["state"] == "in_progress", verified.text

        async def consent_answered() -> dict[str, Any] | None:
            task = (await tasks_of(dsar, created["id"]))["privops-consent"]
            return task if task["state"] != "open" else None

        task = await eventually(consent_answered, timeout=30)
        assert (task["outcome"], task["records_affected"]) == ("done", 1)
        for tenant, left in (("acme", 0), ("globex", 1)):
            history = await consent.client.post(
                "/v1/subjects/history", json={"subject": ADA}, headers=auth(tenant, "consent:read")
            )
            assert len(history.json()["records"]) == left, tenant
