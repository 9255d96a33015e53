"""The consent service as a data store: erase, restrict, object (DSAR tasks through Kafka)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from sqlmodel import select

from services.consent.models import ConsentReceipt, SubjectStatus
from services.consent.service.store import ConsentStore
from shared.bus.outbox import build_envelope
from shared.bus.store import TaskInput
from shared.events.catalogue.dsar import DsarTaskRequested
from shared.events.envelope import CloudEvent
from shared.events.topics import DSAR_TASK_RESULTS, DSAR_TASKS
from shared.runtime.uow import UnitOfWork
from tests.integration.consent.conftest import ADA, ADMIN, check, decide
from tests.support.stack import Infra, RunningService, eventually, read_topic

pytestmark = pytest.mark.integration


async def send_task(infra: Infra, svc: RunningService, ref: str, action: str, *others: str) -> uuid.UUID:
    task_id = uuid.uuid4()
    event = DsarTaskRequested(
        task_id=task_id,
        request_id=uuid.uuid4(),
        action=action,  # type: ignore[arg-type]
        system="privops-consent",
        subject_ref=ref,
        subject_refs=[ref, *others],
        claim_url="http://127.0.0.1:9/v1/tasks/x/claim",
        due_at=datetime(2026, 4, 1, tzinfo=UTC),
    )
    envelope = build_envelope(event, source="/privops/dsar", tenant_id="acme", subject=ref, now=svc.clock.now())
    producer = AIOKafkaProducer(bootstrap_servers=infra.broker.bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            svc.settings.topic(DSAR_TASKS), value=envelope.data_bytes(), headers=envelope.to_kafka_headers()
        )
    finally:
        await producer.stop()
    return task_id


async def results(infra: Infra, svc: RunningService, expect: int) -> dict[str, dict[str, object]]:
    records = await read_topic(infra.broker.bootstrap, svc.settings.topic(DSAR_TASK_RESULTS), expect=expect)
    return {e.data["task_id"]: e.data for e in (CloudEvent.from_kafka(r.headers, r.value) for r in records)}


async def test_restrict_then_lift(consent: RunningService, infra: Infra) -> None:
    await consent.wait_consumers_ready()
    ref = (await decide(consent, "newsletter", "granted"))["subject_ref"]
    await send_task(infra, consent, ref, "restrict")

    async def reason() -> str:
        return str((await check(consent, "newsletter", "invoicing"))["newsletter"]["reason"])

    await eventually(lambda: _equals(reason, "restricted"))
    assert (await check(consent, "invoicing"))["invoicing"]["reason"] == "restricted"
    await send_task(infra, consent, ref, "lift_restriction")
    await eventually(lambda: _equals(reason, "granted"))
    assert len(await results(infra, consent, 2)) == 2


async def test_object_withdraws_legitimate_interest_and_direct_marketing(consent: RunningService, infra: Infra) -> None:
    await consent.wait_consumers_ready()
    ref = (await decide(consent, "newsletter", "granted"))["subject_ref"]
    await decide(consent, "cookies.analytics", "granted")
    task = await send_task(infra, consent, ref, "object")
    done = await results(infra, consent, 1)
    assert done[str(task)]["outcome"] == "done"
    answers = await check(consent, "newsletter", "fraud", "cookies.analytics")
    assert answers["newsletter"]["reason"] == "objected"  # and a withdrawal record was appended
    assert answers["fraud"]["reason"] == "objected"
    assert answers["cookies.analytics"]["reason"] == "granted"  # consent, not direct marketing: untouched


async def test_erase_keeps_only_a_hashed_suppression_entry(consent: RunningService, infra: Infra) -> None:
    await consent.wait_consumers_ready()
    ref = (await decide(consent, "newsletter", "granted"))["subject_ref"]
    await decide(consent, "cookies.analytics", "granted")
    task = await send_task(infra, consent, ref, "erase")
    done = await results(infra, consent, 1)
    assert done[str(task)]["outcome"] == "done" and done[str(task)]["records_affected"] == 2
    history = await consent.client.post("/v1/subjects/history", json={"subject": ADA}, headers=ADMIN)
    assert history.json()["records"] == [] and history.json()["status"]["erased_at"]
    async with consent.runtime.database.session() as session:
        status = (await session.exec(select(SubjectStatus))).one()
    assert (status.subject_ref, status.erased_records) == (ref, 2)
    assert (await check(consent, "newsletter"))["newsletter"]["allowed"] is False
    # An old marketing list cannot bring the person back.
    job = (await consent.client.post("/v1/imports", json={"format": "ndjson"}, headers=ADMIN)).json()
    row = '{"subject_ref": "%s", "purpose": "newsletter", "decision": "granted", "occurred_at": "2025-01-01T00:00:00Z"}'
    chunk = await consent.client.post(
        f"/v1/imports/{job['id']}/rows", params={"offset": 0}, content=row % ref, headers=ADMIN
    )
    assert (chunk.json()["accepted"], chunk.json()["rejected"]) == (0, 1)


async def test_erase_takes_the_receipts_and_any_address_waiting_for_a_mail(
    consent: RunningService, infra: Infra
) -> None:
    await consent.wait_consumers_ready()
    profile = {"name": "Example SAS", "contact": "DPO", "address": "1 rue de la Paix, Paris", "email": "dpo@x.example"}
    put = await consent.client.put(
        "/v1/controller", json=profile | {"phone": "+33 1 00", "policy_url": "https://x.example"}, headers=ADMIN
    )
    assert put.status_code == 200, put.text
    granted = await decide(consent, "newsletter", "granted")
    read = await consent.client.get(f"/v1/consents/{granted['id']}/receipt", headers=ADMIN)  # signed and kept
    assert read.status_code == 200, read.text
    await decide(consent, "cookies.analytics", "granted", receipt_to="ada@example.com")  # its mail not sent yet
    ref = granted["subject_ref"]
    # The access export carries each receipt: the signed one as signed, the other built now (unsigned).
    async with consent.runtime.database.session() as session:
        uow = UnitOfWork(session, consent.settings, consent.clock, "acme", "test")
        task = TaskInput(tenant_id="acme", subject_ref=ref, action="access", request_id=uuid.uuid4())
        exported = {item["record"]["purpose"]: item for item in await ConsentStore().export(uow, task)}
    assert exported["newsletter"]["receipt_jws"] == read.json()["jws"]
    assert exported["newsletter"]["receipt"] == read.json()["receipt"]
    assert "receipt_jws" not in exported["cookies.analytics"]
    assert exported["cookies.analytics"]["receipt"]["events"][0]["event_state"] == "given"
    erase = await send_task(infra, consent, ref, "erase")
    done = await results(infra, consent, 1)
    assert done[str(erase)]["outcome"] == "done"
    async with consent.runtime.database.session() as session:
        left = (await session.exec(select(ConsentReceipt))).all()
    assert left == []
    gone = await consent.client.get(f"/v1/consents/{granted['id']}/receipt", headers=ADMIN)
    assert gone.status_code == 404


async def test_erase_reaches_the_records_kept_under_every_identifier_of_the_request(
    consent: RunningService, infra: Infra
) -> None:
    await consent.wait_consumers_ready()
    cookie = {"kind": "cookie_id", "value": "c-7f3a9"}
    by_email = (await decide(consent, "newsletter", "granted"))["subject_ref"]
    by_cookie = (await decide(consent, "cookies.analytics", "granted", subject=cookie))["subject_ref"]
    assert by_email != by_cookie
    # The request named both identifiers: one task, every record found.
    task = await send_task(infra, consent, by_email, "erase", by_cookie)
    done = await results(infra, consent, 1)
    assert done[str(task)]["records_affected"] == 2
    history = await consent.client.post("/v1/subjects/history", json={"subject": cookie}, headers=ADMIN)
    assert history.json()["records"] == [] and history.json()["status"]["erased_at"]
    assert (await check(consent, "cookies.analytics", subject=cookie))["cookies.analytics"]["allowed"] is False


async def _equals(fn, expected: str) -> bool:  # type: ignore[no-untyped-def]
    return bool(await fn() == expected)
