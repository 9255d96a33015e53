"""End to end: each request type travels intake → verification → Kafka → both demo stores → completion."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from examples.crm.store import INVOICES_KEPT
from shared.events.topics import DSAR_EVENTS
from tests.integration.dsar.support import ADMIN, READ, Dsar, render, request_body, serve_dsar
from tests.integration.sdk.support import DemoStores, demo_stores, tasks_of, until_state, verify_by_code
from tests.support.pii import LogCapture, assert_no_personal_data, outbox_drained
from tests.support.stack import Infra, auth, read_topic

pytestmark = pytest.mark.integration


async def test_an_erasure_reaches_both_stores_and_ends_with_a_signed_certificate(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    with LogCapture().active() as logs:
        async with serve_dsar(infra, topic_prefix, log_level="DEBUG") as dsar:
            async with demo_stores(infra, dsar, tmp_path) as stores:
                await _erasure_reaches_both_stores(infra, dsar, stores)
            # Identifiers travel by claim check only: not on any topic, not in any log line (service or stores).
            await outbox_drained(dsar.runtime.database)
            await assert_no_personal_data(infra.broker.bootstrap, topic_prefix, ["ada@example.com", "u-1001"], logs)


async def _erasure_reaches_both_stores(infra: Infra, dsar: Dsar, stores: DemoStores) -> None:
    systems = await dsar.client.get("/v1/systems", headers=READ)
    assert {s["key"]: s["actions"] for s in systems.json()} == {
        "analytics": ["access", "erase", "restrict", "lift_restriction", "object", "portability"],
        "crm": ["access", "erase", "rectify", "restrict", "lift_restriction", "object", "portability"],
    }
    recipient = await dsar.client.post(
        "/v1/recipients",
        json={"subject": {"kind": "email", "value": "ada@example.com"}, "system": "crm", "recipient": "Acme Mail"},
        headers=auth("acme", "dsar:write"),
    )
    assert recipient.status_code == 201, recipient.text
    assert await stores.crm.count("contacts") == 4
    created = await dsar.open(request_body("erasure"))
    await verify_by_code(dsar, created["id"])
    done = await until_state(dsar, created["id"])

    assert done["outcome"] == "partial"  # the CRM keeps invoices under a legal exemption
    assert done["identifiers_purged"] is True
    tasks = await tasks_of(dsar, created["id"])
    assert tasks["crm"]["outcome"] == "done"
    assert tasks["crm"]["recipients"] == ["Acme Mail"]
    assert tasks["analytics"]["records_affected"] == 9  # one profile, eight events
    assert await stores.crm.count("contacts") == 3
    assert await stores.crm.count("invoices") == 4
    assert not await stores.analytics.query("SELECT * FROM events WHERE user_id = 'u-1001'")
    assert await stores.analytics.query("SELECT * FROM events WHERE user_id = 'u-1002'")

    certificate = (await dsar.client.get(f"/v1/requests/{created['id']}/certificate", headers=READ)).json()
    by_system = {s["system"]: s for s in certificate["certificate"]["systems"]}
    assert by_system["crm"]["records_affected"] == 4  # the contact, two notes and the newsletter subscription
    assert INVOICES_KEPT in by_system["crm"]["exemption"]
    assert by_system["crm"]["recipients_notified"] == ["Acme Mail"]
    assert by_system["analytics"]["outcome"] == "done"
    assert "ada@example.com" not in json.dumps(certificate).lower()  # ids are hex: "ada" alone can occur
    check = {"certificate": certificate["certificate"], "signature": certificate["signature"]}
    assert (await dsar.client.post("/v1/certificates/verify", json=check, headers=READ)).json()["valid"]
    forged = {**check, "certificate": {**certificate["certificate"], "outcome": "complete"}}
    assert not (await dsar.client.post("/v1/certificates/verify", json=forged, headers=READ)).json()["valid"]

    task_id = tasks["crm"]["id"]
    closed = await dsar.client.get(f"/v1/tasks/{task_id}/claim", headers=_system_token("crm"))
    assert closed.status_code == 410
    events = await read_topic(infra.broker.bootstrap, dsar.settings.topic(DSAR_EVENTS), expect=3)
    completed = [json.loads(r.value) for r in events if dict(r.headers)["ce_type"].endswith(b"request.completed")]
    assert completed[0]["certificate_id"] == certificate["id"]
    completed_notice = await dsar.claimed(created["id"], "dsar.completed")  # queued before the purge
    assert completed_notice["context"] == {
        "request_id": created["id"],
        "request_type": "erasure",
        "systems": 2,
        "certificate_id": certificate["id"],
    }
    assert "carried out in every system" in render(completed_notice).text


async def test_access_and_portability_produce_a_zip_behind_an_expiring_link(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar, demo_stores(infra, dsar, tmp_path):
        for kind in ("access", "portability"):
            created = await dsar.open(request_body(kind))
            await verify_by_code(dsar, created["id"])
            done = await until_state(dsar, created["id"])
            assert done["outcome"] == "complete"
            assert done["package_id"]
            link = await dsar.client.post(f"/v1/requests/{created['id']}/package-link", headers=ADMIN)
            assert link.status_code == 200, link.text
            download = await dsar.client.get(link.json()["url"])
            assert download.status_code == 200
            assert download.headers["content-type"] == "application/zip"
            archive = zipfile.ZipFile(io.BytesIO(download.content))
            names = set(archive.namelist())
            assert {"art15.json", "request.json", "systems/crm/records.csv", "systems/analytics/records.json"} <= names
            crm = json.loads(archive.read("systems/crm/records.json"))
            assert {r["table"] for r in crm} == {"contacts", "notes", "invoices", "subscriptions"}
            assert any(r.get("name") == "Ada Lovelace" for r in crm)
            rows = list(csv.DictReader(io.StringIO(archive.read("systems/analytics/records.csv").decode())))
            assert len(rows) == 9
            art15 = json.loads(archive.read("art15.json"))
            assert "billing" in art15["purposes"] and "product analytics" in art15["purposes"]
            assert art15["supervisory_authority"].startswith("the competent EU/EEA")
            wrong = await dsar.client.get(link.json()["url"].replace("token=", "token=x"))
            assert wrong.status_code == 404
        dsar.clock.advance(__import__("datetime").timedelta(days=8))
        expired = await dsar.client.get(link.json()["url"])
        assert expired.status_code == 410


async def test_rectification_restriction_lifting_and_objection_reach_the_stores_that_support_them(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar, demo_stores(infra, dsar, tmp_path) as stores:
        corrections = {"corrections": [{"field": "name", "new_value": "Augusta Ada King"}]}
        rectified = await dsar.open(request_body("rectification", details=corrections))
        await verify_by_code(dsar, rectified["id"])
        await until_state(dsar, rectified["id"])
        assert set(await tasks_of(dsar, rectified["id"])) == {"crm"}  # analytics holds nothing to correct
        names = await stores.crm.export(_ada())
        assert next(r for r in names if r["table"] == "contacts")["name"] == "Augusta Ada King"

        for kind, flag in (("restriction", 1), ("lift_restriction", 0)):
            request = await dsar.open(request_body(kind, jurisdiction="eu-gdpr"))
            await verify_by_code(dsar, request["id"])
            await until_state(dsar, request["id"])
            profile = await stores.analytics.query("SELECT restricted FROM profiles WHERE user_id = 'u-1001'")
            assert profile[0]["restricted"] == flag
            contact = next(r for r in await stores.crm.export(_ada()) if r["table"] == "contacts")
            assert contact["restricted"] is bool(flag)

        objection = await dsar.open(request_body("objection", details={"purposes": ["marketing email"]}))
        await verify_by_code(dsar, objection["id"])
        done = await until_state(dsar, objection["id"])
        assert done["details"] == {"purposes": ["marketing email"]}
        contact = next(r for r in await stores.crm.export(_ada()) if r["table"] == "contacts")
        assert contact["marketing_opt_out"] is True
        assert contact["objected_purposes"] == ["marketing email"]
        profile = await stores.analytics.query("SELECT tracking_opt_out FROM profiles WHERE user_id = 'u-1001'")
        assert profile[0]["tracking_opt_out"] == 1


def _ada():  # type: ignore[no-untyped-def]
    from sdk import Identifiers

    return Identifiers.of(email="ada@example.com")


def _system_token(system: str) -> dict[str, str]:
    from tests.support.stack import token

    return {"Authorization": f"Bearer {token('acme', 'dsar:task', subject=f'system:{system}')}"}
