"""Tasks: claim-check rules, bad results dead-lettered, silent stores re-published then escalated."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlmodel import select

from shared.bus.consumer import DeadLetter
from shared.bus.outbox import build_envelope
from shared.events.catalogue import Event
from shared.events.catalogue.dsar import DsarTaskCompleted, DsarTaskFailed
from shared.events.topics import DSAR_EVENTS, DSAR_TASK_RESULTS, DSAR_TASKS
from tests.integration.dsar.support import ADMIN, READ, WRITE, Dsar, request_body, serve_dsar
from tests.support.stack import Infra, eventually, read_topic, token

pytestmark = pytest.mark.integration


def as_system(system: str, tenant: str = "acme", scope: str = "dsar:task") -> dict[str, str]:
    """A token acting for a data system."""
    return {"Authorization": f"Bearer {token(tenant, scope, subject=f'system:{system}')}"}


async def register(dsar: Dsar, key: str, actions: list[str]) -> None:
    body = {"name": key.title(), "owner": "ops@example.com", "actions": actions, "purposes": ["testing"]}
    response = await dsar.client.put(f"/v1/systems/{key}", json=body, headers=WRITE)
    assert response.status_code in (200, 201), response.text


async def verified_request(dsar: Dsar, kind: str = "erasure") -> dict[str, Any]:
    created = await dsar.open(request_body(kind, verification="manual"))
    response = await dsar.client.post(
        f"/v1/requests/{created['id']}/verification/manual", json={"evidence_ref": "ID-1"}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def the_tasks(dsar: Dsar, request_id: str) -> dict[str, dict[str, Any]]:
    response = await dsar.client.get(f"/v1/requests/{request_id}/tasks", headers=READ)
    return {t["system"]: t for t in response.json()}


async def send_result(infra: Infra, dsar: Dsar, event: Event, tenant: str = "acme") -> None:
    envelope = build_envelope(event, source="/stores/test", tenant_id=tenant, subject="s", now=datetime.now(UTC))
    producer = AIOKafkaProducer(bootstrap_servers=infra.broker.bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            dsar.settings.topic(DSAR_TASK_RESULTS),
            envelope.data_bytes(),
            key=b"acme:s",
            headers=envelope.to_kafka_headers(),
        )
    finally:
        await producer.stop()


async def test_claim_and_export_only_for_the_system_the_task_is_addressed_to(infra: Infra, topic_prefix: str) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        await register(dsar, "ghost", ["access", "erase"])
        await register(dsar, "other", ["rectify"])
        erasure = await verified_request(dsar)
        assert erasure["state"] == "in_progress"
        task = (await the_tasks(dsar, erasure["id"]))["ghost"]
        claim_url = f"/v1/tasks/{task['id']}/claim"
        assert (await dsar.client.get(claim_url)).status_code == 401
        assert (await dsar.client.get(claim_url, headers=ADMIN)).status_code == 403  # admin is not dsar:task
        assert (await dsar.client.get(claim_url, headers=as_system("other"))).status_code == 403
        assert (await dsar.client.get(claim_url, headers=as_system("ghost", tenant="globex"))).status_code == 404
        nobody = {"Authorization": f"Bearer {token('acme', 'dsar:task', subject='someone')}"}
        assert (await dsar.client.get(claim_url, headers=nobody)).status_code == 403
        claimed = await dsar.client.get(claim_url, headers=as_system("ghost"))
        assert claimed.status_code == 200, claimed.text
        assert {"kind": "email", "value": "ada@example.com"} in claimed.json()["identifiers"]
        export = {"system": "ghost", "format": "json", "records": [{"a": 1}]}
        not_export = await dsar.client.put(f"/v1/tasks/{task['id']}/export", json=export, headers=as_system("ghost"))
        assert not_export.status_code == 409

        access = await verified_request(dsar, "access")
        access_task = (await the_tasks(dsar, access["id"]))["ghost"]
        url = f"/v1/tasks/{access_task['id']}/export"
        assert (await dsar.client.put(url, json=export, headers=as_system("other"))).status_code == 403
        spoofed = {**export, "system": "other"}
        assert (await dsar.client.put(url, json=spoofed, headers=as_system("ghost"))).status_code == 403
        uploaded = await dsar.client.put(url, json=export, headers=as_system("ghost"))
        assert uploaded.status_code == 200, uploaded.text
        assert uploaded.json()["exported_records"] == 1

        cancelled = await dsar.client.post(f"/v1/requests/{erasure['id']}/cancel", json={}, headers=WRITE)
        assert cancelled.json()["state"] == "cancelled"
        assert (await dsar.client.get(claim_url, headers=as_system("ghost"))).status_code == 410
        again = await dsar.client.post(f"/v1/requests/{erasure['id']}/cancel", json={}, headers=WRITE)
        assert again.status_code == 409


async def test_bad_results_are_dead_lettered_and_failures_are_retried_then_closed(
    infra: Infra, topic_prefix: str
) -> None:
    async with serve_dsar(infra, topic_prefix, task_max_attempts=2) as dsar:
        await dsar.wait_consumers_ready()
        await register(dsar, "ghost", ["erase"])
        request = await verified_request(dsar)
        task = (await the_tasks(dsar, request["id"]))["ghost"]
        now = datetime.now(UTC)
        unknown = DsarTaskCompleted(
            task_id=uuid.uuid4(), request_id=uuid.UUID(request["id"]), system="ghost", outcome="done", completed_at=now
        )
        wrong_system = DsarTaskCompleted(
            task_id=uuid.UUID(task["id"]),
            request_id=uuid.UUID(request["id"]),
            system="crm",
            outcome="done",
            completed_at=now,
        )
        await send_result(infra, dsar, unknown)
        await send_result(infra, dsar, wrong_system)

        async def dead() -> list[DeadLetter]:
            async with dsar.runtime.database.session() as session:
                return list((await session.exec(select(DeadLetter))).all())

        letters = await eventually(lambda: _at_least(dead, 2))
        assert {d.reason for d in letters} == {"handler_rejected"}
        assert any("unknown task" in d.error for d in letters)
        assert any("belongs to ghost" in d.error for d in letters)
        assert (await the_tasks(dsar, request["id"]))["ghost"]["state"] == "open"

        failed = DsarTaskFailed(
            task_id=uuid.UUID(task["id"]),
            request_id=uuid.UUID(request["id"]),
            system="ghost",
            error="database down",
            retryable=True,
            failed_at=now,
        )
        await send_result(infra, dsar, failed)
        await eventually(lambda: _task_field(dsar, request["id"], "attempt", 2))
        await send_result(infra, dsar, failed.model_copy(update={"error": "still down"}))
        done = await eventually(lambda: _request_state(dsar, request["id"], "completed"))
        assert done["outcome"] == "partial"
        closed = (await the_tasks(dsar, request["id"]))["ghost"]
        assert (closed["outcome"], closed["error"]) == ("failed", "still down")
        certificate = (await dsar.client.get(f"/v1/requests/{request['id']}/certificate", headers=READ)).json()
        assert certificate["certificate"]["systems"][0]["outcome"] == "failed"


async def test_unacknowledged_tasks_are_republished_with_backoff_then_escalated(
    infra: Infra, topic_prefix: str
) -> None:
    async with serve_dsar(infra, topic_prefix, task_max_attempts=2, task_ack_timeout_s=600) as dsar:
        await register(dsar, "ghost", ["erase"])
        request = await verified_request(dsar)
        jobs = dsar.runtime.jobs
        assert await jobs.run_once("dsar.task-redelivery") == 0
        dsar.clock.advance(timedelta(minutes=11))
        assert await jobs.run_once("dsar.task-redelivery") == 1
        assert (await the_tasks(dsar, request["id"]))["ghost"]["attempt"] == 2
        dsar.clock.advance(timedelta(minutes=15))  # the second wait is twice as long
        assert await jobs.run_once("dsar.task-redelivery") == 0
        dsar.clock.advance(timedelta(minutes=10))
        assert await jobs.run_once("dsar.task-redelivery") == 1
        task = (await the_tasks(dsar, request["id"]))["ghost"]
        assert task["escalated_at"] is not None
        assert await jobs.run_once("dsar.task-redelivery") == 0
        published = await read_topic(infra.broker.bootstrap, dsar.settings.topic(DSAR_TASKS), expect=2)
        assert sorted(json.loads(r.value)["attempt"] for r in published) == [1, 2]
        events = await read_topic(infra.broker.bootstrap, dsar.settings.topic(DSAR_EVENTS), expect=3)
        types = [dict(r.headers)["ce_type"].decode() for r in events]
        assert types.count("io.privops.dsar.task.escalated") == 1


async def _at_least(fetch: Any, count: int) -> Any:
    rows = await fetch()
    return rows if len(rows) >= count else None


async def _task_field(dsar: Dsar, request_id: str, name: str, value: Any) -> bool:
    return bool((await the_tasks(dsar, request_id))["ghost"][name] == value)


async def _request_state(dsar: Dsar, request_id: str, state: str) -> dict[str, Any] | None:
    body = await dsar.request(request_id)
    return body if body["state"] == state else None


async def test_results_applied_concurrently_complete_the_request_once(infra: Infra, topic_prefix: str) -> None:
    """Several replicas closing a request's tasks at the same time: one completion, one certificate."""
    from services.dsar.models import DsarRequest as RequestRow
    from services.dsar.models import ErasureCertificate
    from services.dsar.service import Uow
    from services.dsar.service.tasks import apply_result

    async with serve_dsar(infra, topic_prefix) as dsar:
        await dsar.wait_consumers_ready()
        systems = ["ghost-a", "ghost-b", "ghost-c", "ghost-d"]
        for key in systems:
            await register(dsar, key, ["erase"])
        request = await verified_request(dsar)
        tasks = await the_tasks(dsar, request["id"])
        assert set(systems) <= set(tasks)
        database = dsar.runtime.database
        now = datetime.now(UTC)

        async def close(system: str) -> None:
            event = DsarTaskCompleted(
                task_id=uuid.UUID(tasks[system]["id"]),
                request_id=uuid.UUID(request["id"]),
                system=system,
                outcome="done",
                completed_at=now,
            )
            async with database.session() as session:  # one transaction each, as on separate replicas
                await apply_result(Uow(session, dsar.settings, dsar.clock, "acme", f"system:{system}"), event)

        others = [k for k in tasks if k not in systems]
        for system in others:  # anything registered besides the ghosts answers first
            await close(system)
        await asyncio.gather(*(close(system) for system in systems))

        async with database.session() as session:
            row = (await session.exec(select(RequestRow).where(RequestRow.id == uuid.UUID(request["id"])))).one()
            certificates = (
                await session.exec(
                    select(ErasureCertificate).where(ErasureCertificate.request_id == uuid.UUID(request["id"]))
                )
            ).all()
        assert row.state == "completed"
        assert len(certificates) == 1
        assert len(certificates[0].document["systems"]) == len(tasks)


async def test_a_poll_of_results_closes_every_task_and_completes_each_request_once(
    infra: Infra, topic_prefix: str
) -> None:
    """Results applied together (a batched poll): each request completed once, by the store that closed it last."""
    from services.dsar.models import DsarTask, ErasureCertificate
    from services.dsar.service import Uow
    from services.dsar.service.results import apply_results
    from shared.runtime.audit import AuditEntry

    async with serve_dsar(infra, topic_prefix) as dsar:
        await dsar.wait_consumers_ready()
        for key in ("ghost-a", "ghost-b"):
            await register(dsar, key, ["erase"])
        requests = [await verified_request(dsar) for _ in range(3)]
        ids = [uuid.UUID(r["id"]) for r in requests]
        database = dsar.runtime.database
        async with database.session() as session:
            tasks = (await session.exec(select(DsarTask).where(DsarTask.request_id.in_(ids)))).all()  # type: ignore[attr-defined]
        now = datetime.now(UTC)
        results: list[DsarTaskCompleted | DsarTaskFailed] = [
            DsarTaskCompleted(
                task_id=t.id, request_id=t.request_id, system=t.system_key, outcome="done", completed_at=now
            )
            for t in sorted(tasks, key=lambda t: t.system_key)
            if not (t.request_id == ids[2] and t.system_key == "ghost-b")  # the third request keeps one task open
        ]
        results.append(results[0])  # the same answer twice: the second one changes nothing
        async with database.session() as session:
            await apply_results(Uow(session, dsar.settings, dsar.clock, "acme", "event:test"), results)

        async with database.session() as session:
            certificates = (
                await session.exec(select(ErasureCertificate).where(ErasureCertificate.request_id.in_(ids)))  # type: ignore[attr-defined]
            ).all()
            completed = (
                await session.exec(
                    select(AuditEntry).where(AuditEntry.action == "request.completed", AuditEntry.tenant_id == "acme")
                )
            ).all()
            closes = (
                await session.exec(
                    select(AuditEntry).where(AuditEntry.action == "task.closed", AuditEntry.tenant_id == "acme")
                )
            ).all()
        assert sorted(c.request_id for c in certificates) == sorted(ids[:2])
        assert {c.entity_id for c in completed} == {str(i) for i in ids[:2]}
        assert {c.actor for c in completed} == {"system:ghost-b"}  # the last answer of each request closed it
        assert len(closes) == len(results) - 1
        assert all(len(c.document["systems"]) == len(tasks) // 3 for c in certificates)
        states = {r: (await dsar.request(str(r)))["state"] for r in ids}
        assert states == {ids[0]: "completed", ids[1]: "completed", ids[2]: "in_progress"}


async def test_a_poll_with_an_unknown_task_raises_and_changes_nothing(infra: Infra, topic_prefix: str) -> None:
    """An unknown task in a poll raises: the consumer then applies the poll one event at a time."""
    from services.dsar.service import Uow
    from services.dsar.service.results import apply_results

    async with serve_dsar(infra, topic_prefix) as dsar:
        await dsar.wait_consumers_ready()
        await register(dsar, "ghost-a", ["erase"])
        request = await verified_request(dsar)
        task = (await the_tasks(dsar, request["id"]))["ghost-a"]
        now = datetime.now(UTC)
        known = DsarTaskCompleted(
            task_id=uuid.UUID(task["id"]), request_id=uuid.UUID(request["id"]), system="ghost-a", outcome="done",
            completed_at=now,
        )  # fmt: skip
        unknown = known.model_copy(update={"task_id": uuid.uuid4()})
        with pytest.raises(ValueError, match="unknown task"):
            async with dsar.runtime.database.session() as session:
                await apply_results(Uow(session, dsar.settings, dsar.clock, "acme", "event:test"), [known, unknown])
        assert (await the_tasks(dsar, request["id"]))["ghost-a"]["state"] == "open"
