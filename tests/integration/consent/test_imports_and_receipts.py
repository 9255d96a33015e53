"""Bulk import (NDJSON, CSV; row-by-row report; resumable), receipts and subject history."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import func, select

from services.consent.models import ConsentRecord, ConsentState
from shared.bus.outbox import staged_events
from tests.integration.consent.conftest import ADA, ADMIN, READ, check, counts, decide
from tests.support.stack import RunningService, eventually, serve_http

CHUNK_LOCKS = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = CAST(:kind AS oid) "
    "AND objid = CAST(:job AS oid))"
)

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
        events = await staged_events(session)
        records = {str(r.id): r.subject_ref for r in (await session.exec(select(ConsentRecord))).all()}
    assert states == 3010 and {e.headers["ce_type"] for e in events} == {"io.privops.consent.granted"}
    # Packed in the outbox, but each event whole: its own id, subject, key and payload of its record.
    assert len({e.event_id for e in events}) == 3010
    for event in events:
        data = json.loads(event.payload)
        assert records[data["consent_id"]] == data["subject_ref"] == event.headers["ce_subject"]
        assert event.key == f"acme:{data['subject_ref']}" and event.headers["ce_tenantid"] == "acme"
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


async def test_the_projection_keeps_the_decision_made_last_whatever_the_row_order(consent: RunningService) -> None:
    await decide(consent, "cookies.analytics", "granted")  # now: newer than anything imported below
    rows = [
        ("bob@example.com", "newsletter", "withdrawn", "2025-03-01T00:00:00Z"),  # the newest comes first
        ("bob@example.com", "newsletter", "granted", "2025-01-01T00:00:00Z"),
        ("bob@example.com", "newsletter", "denied", "2024-01-01T00:00:00Z"),
        ("eve@example.com", "newsletter", "granted", "2025-05-05T05:05:05Z"),
        ("eve@example.com", "newsletter", "withdrawn", "2025-05-05T05:05:05Z"),  # same instant: refusal wins
        ("eve@example.com", "newsletter", "granted", "2025-05-05T05:05:05Z"),
        ("ada@example.com", "cookies.analytics", "withdrawn", "2025-01-01T00:00:00Z"),  # older than the API's
    ]
    body = "".join(
        json.dumps({"subject_kind": "email", "subject": who, "purpose": p, "decision": d, "occurred_at": at}) + "\n"
        for who, p, d, at in rows
    )
    job = (await consent.client.post("/v1/imports", json={"format": "ndjson"}, headers=ADMIN)).json()
    chunk = await consent.client.post(
        f"/v1/imports/{job['id']}/rows", params={"offset": 0}, content=body, headers=ADMIN
    )
    assert chunk.json()["accepted"] == len(rows), chunk.text
    for who, purpose, reason in (
        ("bob@example.com", "newsletter", "withdrawn"),
        ("eve@example.com", "newsletter", "withdrawn"),
        ("ada@example.com", "cookies.analytics", "granted"),
    ):
        result = await check(consent, purpose, subject={"kind": "email", "value": who})
        assert result[purpose]["reason"] == reason, (who, result)


async def test_receipt_and_history(consent: RunningService) -> None:
    record = await decide(consent, "newsletter", "granted", channel="web", proof={"language": "fr"})
    missing = await consent.client.get(f"/v1/consents/{record['id']}/receipt", headers=READ)
    assert missing.status_code == 409 and "PUT /v1/controller" in missing.json()["detail"]  # no profile yet
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
    receipt = (await consent.client.get(f"/v1/consents/{record['id']}/receipt", headers=READ)).json()["receipt"]
    assert receipt["record_id"] == record["id"] and receipt["pii_principal_id"] == record["subject_ref"]
    assert receipt["language"] == "fr" and receipt["purposes"][0]["collection_method"] == "web"
    assert receipt["purposes"][0]["pii_information"] == [{"pii_type": "contact.email"}]
    assert receipt["privops"]["decision"] == "granted"
    await decide(consent, "newsletter", "withdrawn")
    history = (await consent.client.post("/v1/subjects/history", json={"subject": ADA}, headers=READ)).json()
    assert [r["decision"] for r in history["records"]] == ["granted", "withdrawn"]
    assert history["status"] == {"restricted": False, "objected": False, "erased_at": None}


async def test_a_chunk_sent_ahead_waits_for_the_chunks_before_it(
    consent: RunningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.consent.service import imports

    job = (await consent.client.post("/v1/imports", json={"format": "ndjson"}, headers=ADMIN)).json()
    url = f"/v1/imports/{job['id']}/rows"

    async def send(offset: int, count: int) -> httpx.Response:
        return await consent.client.post(
            url, params={"offset": offset}, content=ndjson_rows(offset, count), headers=ADMIN
        )

    # A generous grace here: the first chunk may take a while to arrive on a loaded machine.
    monkeypatch.setattr(imports, "CHUNK_GRACE_S", 10.0)
    ahead = asyncio.create_task(send(1000, 500))  # arrives first, parsed, then waits for rows 0–999
    await asyncio.sleep(0.3)
    assert not ahead.done()
    first = await send(0, 1000)
    second = await ahead
    assert (first.status_code, second.status_code) == (200, 200), second.text
    assert (second.json()["rows_done"], second.json()["accepted"]) == (1500, 1500)
    assert await counts(consent) == (1500, 1500)

    monkeypatch.setattr(imports, "CHUNK_GRACE_S", 0.0)
    before = asyncio.create_task(send(1500, 20_000))  # a large chunk, in progress for a while

    async def in_progress() -> bool:
        key = {"kind": imports.IMPORT_LOCK_KIND, "job": zlib.crc32(uuid.UUID(job["id"]).bytes) & 0x7FFFFFFF}
        async with consent.runtime.database.session() as session:
            return bool((await session.exec(CHUNK_LOCKS.bindparams(**key))).one()[0])

    await eventually(in_progress, interval=0.01)  # its body read, the chunk says it is in progress
    after = await send(21_500, 500)  # no grace at all, but the chunk before it is in progress: it waits
    assert ((await before).status_code, after.status_code) == (200, 200), after.text
    assert after.json()["rows_done"] == 22_000

    monkeypatch.setattr(imports, "CHUNK_GRACE_S", 1.0)
    started = time.monotonic()
    gap = await send(30_000, 10)  # rows 22,000–29,999 never come: 409 with where the job stands, nothing stored
    assert gap.status_code == 409 and gap.json()["rows_done"] == 22_000
    assert time.monotonic() - started < imports.CHUNK_WAIT_S  # no chunk in progress: only the grace period
    again = await send(0, 10)  # rows already stored
    assert again.status_code == 409 and again.json()["rows_done"] == 22_000
    assert await counts(consent) == (22_000, 22_000)


async def test_the_cli_client_sends_two_chunks_at_a_time_over_http(consent: RunningService, tmp_path: Path) -> None:
    from sdk.consent_import import ImportProgress, run_import

    lines = ndjson_rows(0, 2500).splitlines(keepends=True)
    lines[1234] = '{"subject_kind": "user_id", "subject": "x\u2028y", "purpose": "nope"}\n'  # one bad row
    lines[1800] = "\n"  # an empty line is a row too (reported)
    path = tmp_path / "consents.ndjson"
    path.write_text("".join(lines), encoding="utf-8")
    seen: list[int] = []

    def progress(p: ImportProgress, _read: int) -> None:
        seen.append(p.rows_done)

    async with serve_http(consent.app) as base:

        def send() -> ImportProgress:
            with httpx.Client(base_url=base, headers=ADMIN, timeout=60.0) as client:
                return run_import(client, path, fmt="ndjson", chunk_rows=300, on_progress=progress)

        final = await asyncio.to_thread(send)
    assert (final.rows_done, final.accepted, final.rejected) == (2500, 2498, 2)
    assert seen == [*range(300, 2500, 300), 2500]  # every chunk, in order
    assert await counts(consent) == (2498, 2498)
    report = (await consent.client.get(f"/v1/imports/{final.import_id}/rejections", headers=ADMIN)).json()
    assert [(r["line"], r["field"]) for r in report] == [(1235, "decision"), (1801, None)]
    job = (await consent.client.get(f"/v1/imports/{final.import_id}", headers=ADMIN)).json()
    assert job["status"] == "completed"


async def test_a_stopped_import_says_which_job_to_resume(consent: RunningService, tmp_path: Path) -> None:
    from sdk.consent_import import ImportStopped, run_import

    path = tmp_path / "consents.csv"
    path.write_text("subject_kind,subject,purpose,decision,occurred_at,colour\nuser_id,u1,newsletter,granted,x,red\n")
    async with serve_http(consent.app) as base:

        def send() -> None:
            with httpx.Client(base_url=base, headers=ADMIN, timeout=60.0) as client:
                run_import(client, path, fmt="csv")

        with pytest.raises(ImportStopped, match="unknown columns") as stopped:
            await asyncio.to_thread(send)
    job = (await consent.client.get(f"/v1/imports/{stopped.value.import_id}", headers=ADMIN)).json()
    assert (job["status"], job["rows_done"], stopped.value.rows_done) == ("open", 0, 0)


async def test_the_cli_client_sends_csv_one_chunk_at_a_time_from_where_the_job_stands(
    consent: RunningService, tmp_path: Path
) -> None:
    from sdk.consent_import import run_import

    path = tmp_path / "consents.csv"
    path.write_text(
        "subject_kind,subject,purpose,decision,occurred_at,collector\n"
        "user_id,c1,newsletter,granted,2025-06-01T10:00:00Z,crm\n"
        'user_id,c2,newsletter,granted,2025-06-01T10:00:00Z,"shop\nfront desk"\n'  # one record, two lines
        "user_id,c3,newsletter,granted,2025-06-01T10:00:00Z,crm\n"
        "user_id,c4,newsletter,withdrawn,2025-06-01T10:00:00Z,crm\n"
        "user_id,c5,newsletter,granted,2025-06-01T10:00:00Z,crm\n",
        encoding="utf-8",
    )
    seen: list[int] = []
    async with serve_http(consent.app) as base:

        def send() -> Any:
            with httpx.Client(base_url=base, headers=ADMIN, timeout=60.0) as client:
                return run_import(
                    client, path, fmt="csv", chunk_rows=3, on_progress=lambda p, _: seen.append(p.rows_done)
                )

        final = await asyncio.to_thread(send)
    # The first chunk's 3 lines hold 2 records: the next chunk is sent at offset 2, not 3.
    assert seen == [2, 5]
    assert (final.rows_done, final.accepted, final.rejected) == (5, 5, 0)
