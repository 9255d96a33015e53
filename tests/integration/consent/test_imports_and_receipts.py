"""Bulk import (NDJSON, CSV; row-by-row report; resumable), receipts and subject history."""

from __future__ import annotations

import json

import pytest
from sqlmodel import col, func, select

from services.consent.models import ConsentState
from shared.outbox import OutboxMessage
from tests.integration.consent.conftest import ADA, ADMIN, READ, check, counts, decide
from tests.support.stack import RunningService

pytestmark = pytest.mark.integration


def ndjson_rows(start: int, count: int) -> str:
    return "".join(
        json.dumps(
            {
                "subject_kind": "user_id",
                "subject": f"user-{i}",
                "purpose": "newsletter",
                "decision": "granted",
                "occurred_at": "2025-06-01T10:00:00Z",
                "channel": "crm",
            }
        )
        + "\n"
        for i in range(start, start + count)
    )


async def test_ndjson_import_in_chunks_with_a_report_and_resume(consent: RunningService) -> None:
    job = (await consent.client.post("/v1/imports", json={"format": "ndjson"}, headers=ADMIN)).json()
    url = f"/v1/imports/{job['id']}/rows"
    first = await consent.client.post(url, params={"offset": 0}, content=ndjson_rows(0, 3000), headers=ADMIN)
    assert first.status_code == 200, first.text
    assert (first.json()["rows_done"], first.json()["accepted"]) == (3000, 3000)
    # A client that lost the answer and sends the same chunk again is told where to resume.
    replay = await consent.client.post(url, params={"offset": 0}, content=ndjson_rows(0, 3000), headers=ADMIN)
    assert replay.status_code == 409 and replay.json()["rows_done"] == 3000
    bad = "\n".join(
        [
            '{"subject_kind": "email", "subject": "not-an-email", "purpose": "newsletter", "decision": "granted",'
            ' "occurred_at": "2025-06-01T10:00:00Z"}',
            '{"subject_kind": "user_id", "subject": "x", "purpose": "nope", "decision": "granted",'
            ' "occurred_at": "2025-06-01T10:00:00Z"}',
            "not json",
            '{"subject_kind": "user_id", "subject": "y", "purpose": "newsletter", "decision": "maybe",'
            ' "occurred_at": "2025-06-01T10:00:00Z"}',
        ]
    )
    second = await consent.client.post(
        url, params={"offset": 3000}, content=bad + "\n" + ndjson_rows(3000, 10), headers=ADMIN
    )
    assert (second.json()["rows_done"], second.json()["accepted"], second.json()["rejected"]) == (3014, 3010, 4)
    report = (await consent.client.get(f"/v1/imports/{job['id']}/rejections", headers=ADMIN)).json()
    assert [(r["line"], r["field"]) for r in report] == [
        (3001, "email"),
        (3002, "purpose"),
        (3003, None),
        (3004, "decision"),
    ]
    assert "not-an-email" not in json.dumps(report)
    done = await consent.client.post(f"/v1/imports/{job['id']}/complete", headers=ADMIN)
    assert done.json()["status"] == "completed"
    assert await counts(consent) == (3010, 3010)  # one event per imported record, staged with it
    async with consent.runtime.database.session() as session:
        states = (await session.exec(select(func.count()).select_from(ConsentState))).one()
        types = (await session.exec(select(col(OutboxMessage.event_type)).distinct())).all()
    assert states == 3010 and types == ["io.privops.consent.granted"]
    result = await check(consent, "newsletter", subject={"kind": "user_id", "value": "user-42"})
    assert result["newsletter"]["reason"] == "granted"


async def test_csv_import_and_the_latest_row_wins(consent: RunningService) -> None:
    job = (await consent.client.post("/v1/imports", json={"format": "csv"}, headers=ADMIN)).json()
    csv = (
        "subject_kind,subject,purpose,decision,occurred_at\n"
        "email,ada@example.com,newsletter,granted,2025-01-01T00:00:00Z\n"
        "email,ADA@example.com,newsletter,withdrawn,2025-02-01T00:00:00Z\n"
        "email,ada@example.com,cookies.analytics,granted,2099-01-01T00:00:00Z\n"
    )
    chunk = await consent.client.post(f"/v1/imports/{job['id']}/rows", params={"offset": 0}, content=csv, headers=ADMIN)
    assert (chunk.json()["accepted"], chunk.json()["rejected"]) == (2, 1)  # a row in the future is refused
    assert (await check(consent, "newsletter"))["newsletter"]["reason"] == "withdrawn"
    other_tenant = await consent.client.get(f"/v1/imports/{job['id']}", headers={"Authorization": "Bearer x"})
    assert other_tenant.status_code == 401


async def test_receipt_and_history(consent: RunningService) -> None:
    record = await decide(consent, "newsletter", "granted", channel="web", proof={"language": "fr"})
    missing = await consent.client.get(f"/v1/consents/{record['id']}/receipt", headers=READ)
    assert missing.status_code == 404  # no controller profile yet
    profile = {
        "name": "Example SAS",
        "contact": "DPO",
        "address": "1 rue de la Paix, Paris",
        "email": "dpo@example.com",
        "phone": "+33 1 23 45 67 89",
        "policy_url": "https://example.com/privacy",
        "jurisdiction": "FR",
    }
    for bad in ("http://[2001:db8::1/privacy", "https://", "mailto:dpo@example.com"):  # found by fuzzing: was a 500
        refused = await consent.client.put("/v1/controller", json=profile | {"policy_url": bad}, headers=ADMIN)
        assert refused.status_code == 422, (bad, refused.text)
    assert (await consent.client.put("/v1/controller", json=profile, headers=ADMIN)).status_code == 200
    receipt = (await consent.client.get(f"/v1/consents/{record['id']}/receipt", headers=READ)).json()
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["consentReceiptID"] == record["id"] and receipt["piiPrincipalId"] == record["subject_ref"]
    assert receipt["language"] == "fr" and receipt["collectionMethod"] == "web"
    assert receipt["services"][0]["purposes"][0]["piiCategory"] == ["contact.email"]
    assert receipt["privops"]["decision"] == "granted"
    await decide(consent, "newsletter", "withdrawn")
    history = (await consent.client.post("/v1/subjects/history", json={"subject": ADA}, headers=READ)).json()
    assert [r["decision"] for r in history["records"]] == ["granted", "withdrawn"]
    assert history["status"] == {"restricted": False, "objected": False, "erased_at": None}
