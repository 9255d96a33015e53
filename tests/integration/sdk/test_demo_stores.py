"""End to end: each request type travels intake → verification → Kafka → both demo stores → completion."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from examples.crm.store import INVOICES_KEPT
from shared.events.catalogue.retention import LegalHoldPlaced
from shared.events.topics import DSAR_EVENTS
from shared.rules.subjects import subject_ref
from tests.integration.dsar.support import ADMIN, READ, START, Dsar, render, request_body, serve_dsar
from tests.integration.retention.support import produce
from tests.integration.sdk.support import DemoStores, demo_stores, tasks_of, until_state, verify_by_code
from tests.support.pii import LogCapture, assert_no_personal_data, outbox_drained
from tests.support.stack import SUBJECT_KEY, Infra, auth, eventually, read_topic

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


async def test_legal_holds_keep_what_they_cover_in_the_demo_stores(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar, demo_stores(infra, dsar, tmp_path) as stores:
        await dsar.wait_consumers_ready()
        async with stores.crm.pool.acquire() as conn:  # Grace's contact is filed under a litigation matter
            await conn.execute("UPDATE contacts SET matters = '{case-12}' WHERE email = 'grace@example.com'")
        on_ada, on_matter = uuid.uuid4(), uuid.uuid4()
        ada_ref = subject_ref(SUBJECT_KEY.encode(), "email", "ada@example.com", tenant="acme")
        for event in (
            LegalHoldPlaced(
                hold_id=on_ada, subject_ref=ada_ref, reason="case 2026-CV-0412", placed_at=START - timedelta(days=1)
            ),
            LegalHoldPlaced(hold_id=on_matter, matter="case-12", reason="tax audit 2025", placed_at=START),
        ):
            await produce(infra, dsar.settings, event, tenant="acme", subject=str(event.hold_id))
        await eventually(lambda: _holds_heard(dsar, 2))

        requests = {}
        for email in ("ada@example.com", "grace@example.com", "alan@example.com"):
            body = {"type": "erasure", "jurisdiction": "eu-gdpr", "identifiers": [{"kind": "email", "value": email}]}
            requests[email] = (await dsar.open(body))["id"]
            await verify_by_code(dsar, requests[email])
        tasks = {}
        for email, request_id in requests.items():
            assert (await until_state(dsar, request_id))["outcome"] == "partial"  # invoices or holds keep something
            tasks[email] = await tasks_of(dsar, request_id)

        held_person = tasks["ada@example.com"]  # a hold on the person: both stores keep everything
        for system in ("crm", "analytics"):
            assert (held_person[system]["outcome"], held_person[system]["records_affected"]) == ("exempt", 0)
            assert held_person[system]["exemption"] == f"legal hold {on_ada}: case 2026-CV-0412 — Art. 17(3)(e) GDPR"
        assert await stores.analytics.query("SELECT * FROM events WHERE user_id = 'u-1001'")

        held_matter = tasks["grace@example.com"]  # the matter's contact stays in the CRM; analytics tags no matter
        assert (held_matter["crm"]["outcome"], held_matter["crm"]["records_affected"]) == ("exempt", 0)
        assert (
            f"1 contact(s) with their notes kept — legal hold {on_matter}: tax audit 2025"
            in (held_matter["crm"]["exemption"])
        )
        assert held_matter["analytics"]["outcome"] == "done"

        unheld = tasks["alan@example.com"]["crm"]  # no hold covers Alan: erased, invoices kept as always
        assert (unheld["outcome"], unheld["records_affected"]) == ("done", 4)
        assert "legal hold" not in unheld["exemption"] and INVOICES_KEPT in unheld["exemption"]
        async with stores.crm.pool.acquire() as conn:
            emails = {r["email"] for r in await conn.fetch("SELECT email FROM contacts")}
        assert emails == {"ada@example.com", "grace@example.com", "katherine@example.com"}

        certificate = await dsar.client.get(f"/v1/requests/{requests['ada@example.com']}/certificate", headers=READ)
        crm = next(s for s in certificate.json()["certificate"]["systems"] if s["system"] == "crm")
        assert [(h["hold_id"], h["reason"]) for h in crm["holds"]] == [
            (str(on_ada), "case 2026-CV-0412"),
            (str(on_matter), "tax audit 2025"),
        ]


async def _holds_heard(dsar: Dsar, count: int) -> bool:
    from sqlmodel import select

    from services.dsar.models import LegalHold

    async with dsar.runtime.database.session() as session:
        return len((await session.exec(select(LegalHold))).all()) == count


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
            # What the link leads to, before the download (the privacy center shows it): not a download.
            described = await dsar.client.get(link.json()["url"].replace("/download?", "?"))
            assert described.status_code == 200, described.text
            about = described.json()
            assert about["id"] == done["package_id"] and about["request_type"] == kind
            assert about["size_bytes"] > 0 and about["downloaded_at"] is None
            when = __import__("datetime").datetime.fromisoformat
            assert when(about["expires_at"]) == when(link.json()["expires_at"])
            download = await dsar.client.get(link.json()["url"])
            assert download.status_code == 200
            assert len(download.content) == about["size_bytes"]
            again = (await dsar.client.get(link.json()["url"].replace("/download?", "?"))).json()
            assert again["downloaded_at"] is not None
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
            wrong_about = await dsar.client.get(link.json()["url"].replace("/download?token=", "?token=x"))
            assert wrong_about.status_code == 404
        dsar.clock.advance(__import__("datetime").timedelta(days=8))
        expired = await dsar.client.get(link.json()["url"])
        assert expired.status_code == 410
        assert (await dsar.client.get(link.json()["url"].replace("/download?", "?"))).status_code == 410


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
