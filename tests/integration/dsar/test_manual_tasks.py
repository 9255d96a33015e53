"""Tasks by hand: a manual system's task alerted instead of published and closed with evidence; admin close, retry."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from shared.events.catalogue.dsar import DsarTaskFailed
from shared.events.topics import DSAR_EVENTS, DSAR_TASKS
from shared.runtime.audit import AuditEntry
from tests.integration.dsar.support import ADMIN, READ, WRITE, Dsar, serve_dsar
from tests.integration.dsar.test_tasks import register, send_result, the_tasks, verified_request
from tests.support.stack import Infra, auth, eventually, read_topic, token

pytestmark = pytest.mark.integration

PERSON = "user:u-privacy-7"
AS_PERSON = {"Authorization": f"Bearer {token('acme', 'dsar:write', subject=PERSON)}"}
ARCHIVE = {
    "name": "Paper archive",
    "owner": "facilities@example.com",
    "manual": True,
    "instructions": "Room 3B, cabinets A-F, filed by surname. Shred the file; keep the shredding slip number.",
    "contact": "records-office@example.com",
}
EVIDENCE = "File shredded on 2 March (cabinet C, shredding slip S-2291 kept by facilities)."


async def read_records(infra: Infra, dsar: Dsar, topic: str, expect: int, timeout: float = 15.0) -> list[Any]:
    """The payloads on one of the service's topics, each with its CloudEvents type."""
    records = await read_topic(infra.broker.bootstrap, dsar.settings.topic(topic), expect=expect, timeout=timeout)
    return [json.loads(r.value) | {"type": dict(r.headers)["ce_type"].decode()} for r in records]


async def audit_of(dsar: Dsar, task_id: str) -> list[AuditEntry]:
    """The audit entries about one task, oldest first."""
    async with dsar.runtime.database.session() as session:
        rows = await session.exec(
            select(AuditEntry).where(col(AuditEntry.entity_id) == task_id).order_by(col(AuditEntry.id))
        )
        return list(rows.all())


def is_problem(response: Any, status: int) -> bool:
    """``response`` is an RFC 9457 problem with ``status``."""
    return bool(
        response.status_code == status
        and response.headers["content-type"].startswith("application/problem+json")
        and response.json()["status"] == status
    )


async def test_a_manual_task_is_alerted_not_published_and_closed_by_hand_into_the_certificate(
    infra: Infra, topic_prefix: str
) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        await register(dsar, "ghost", ["erase"])
        registered = await dsar.client.put("/v1/systems/archive", json=ARCHIVE, headers=WRITE)
        assert registered.status_code == 201, registered.text
        assert registered.json()["manual"] is True
        assert len(registered.json()["actions"]) == 7  # a manual system takes every action unless it lists some
        no_instructions = {k: v for k, v in ARCHIVE.items() if k != "instructions"}
        assert is_problem(await dsar.client.put("/v1/systems/attic", json=no_instructions, headers=WRITE), 422)

        request = await verified_request(dsar)
        assert request["state"] == "in_progress"
        tasks = await the_tasks(dsar, request["id"])
        archive, ghost = tasks["archive"], tasks["ghost"]
        assert (archive["manual"], archive["state"], archive["closed_by"]) == (True, "open", None)
        assert archive["instructions"] == ARCHIVE["instructions"] and archive["contact"] == ARCHIVE["contact"]
        assert (ghost["manual"], ghost["instructions"]) == (False, None)
        assert (await dsar.client.get(f"/v1/tasks/{archive['id']}", headers=READ)).json() == archive

        # The privacy team hears of the manual task; only the store's task is on the tasks topic.
        events = await eventually(lambda: _with_type(infra, dsar, DSAR_EVENTS, "io.privops.dsar.task.manual"))
        (opened,) = [e for e in events if e["type"] == "io.privops.dsar.task.manual"]
        assert (opened["task_id"], opened["system"], opened["action"]) == (archive["id"], "archive", "erase")
        request_due = datetime.fromisoformat(request["deadline"]["due_at"])
        assert datetime.fromisoformat(opened["request_due_at"]) == request_due
        assert datetime.fromisoformat(opened["due_at"]) == datetime.fromisoformat(archive["due_at"])
        published = await read_records(infra, dsar, DSAR_TASKS, expect=2, timeout=3)
        assert [p["system"] for p in published] == ["ghost"]

        close_url = f"/v1/tasks/{archive['id']}/close"
        body = {"outcome": "done", "records_affected": 1, "evidence": EVIDENCE}
        assert is_problem(await dsar.client.post(close_url, json=body), 401)
        assert is_problem(await dsar.client.post(close_url, json=body, headers=READ), 403)
        assert is_problem(await dsar.client.post(close_url, json=body, headers=auth("globex", "dsar:admin")), 404)
        unknown = f"/v1/tasks/{uuid.uuid4()}/close"
        assert is_problem(await dsar.client.post(unknown, json=body, headers=ADMIN), 404)
        ghost_close = f"/v1/tasks/{ghost['id']}/close"
        assert is_problem(await dsar.client.post(ghost_close, json=body, headers=WRITE), 403)
        for bad in (
            {"outcome": "exempt", "evidence": EVIDENCE},  # an exemption names its legal reason
            {"outcome": "done"},  # no evidence
            {"outcome": "done", "evidence": " "},
            {"outcome": "failed", "evidence": EVIDENCE},
            {"outcome": "done", "evidence": EVIDENCE, "records": [{"a": 1}]},  # records only for exports
        ):
            assert is_problem(await dsar.client.post(close_url, json=bad, headers=AS_PERSON), 422), bad
        assert (await the_tasks(dsar, request["id"]))["archive"] == archive  # nothing changed

        # The person reads whom the task is about, then closes it.
        identifiers_url = f"/v1/tasks/{archive['id']}/identifiers"
        assert is_problem(await dsar.client.get(identifiers_url, headers=READ), 403)
        claimed = await dsar.client.get(identifiers_url, headers=AS_PERSON)
        assert claimed.status_code == 200, claimed.text
        assert {"kind": "email", "value": "ada@example.com"} in claimed.json()["identifiers"]
        ghost_identifiers = f"/v1/tasks/{ghost['id']}/identifiers"
        assert is_problem(await dsar.client.get(ghost_identifiers, headers=WRITE), 403)
        assert (await dsar.client.get(ghost_identifiers, headers=ADMIN)).status_code == 200
        assert (await the_tasks(dsar, request["id"]))["ghost"]["acknowledged_at"] is None  # still the store's

        closed = await dsar.client.post(close_url, json=body, headers=AS_PERSON)
        assert closed.status_code == 200, closed.text
        shown = closed.json()
        assert (shown["state"], shown["outcome"], shown["records_affected"]) == ("closed", "done", 1)
        assert (shown["closed_by"], shown["evidence"], shown["close_reason"]) == (PERSON, EVIDENCE, None)
        assert (await dsar.request(request["id"]))["state"] == "in_progress"  # the store has not answered
        assert is_problem(await dsar.client.post(close_url, json=body, headers=AS_PERSON), 409)
        assert is_problem(await dsar.client.get(identifiers_url, headers=AS_PERSON), 410)
        retry_body = {"reason": "try again"}
        assert is_problem(
            await dsar.client.post(f"/v1/tasks/{archive['id']}/retry", json=retry_body, headers=ADMIN), 409
        )

        # An admin answers in the store's place, with the reason.
        store_body = {"outcome": "no_data", "evidence": "Queried the ghost database by hand: no row."}
        assert is_problem(await dsar.client.post(ghost_close, json=store_body, headers=ADMIN), 422)  # no reason
        reason = "The ghost store is being decommissioned; its database is read by hand."
        by_admin = await dsar.client.post(ghost_close, json=store_body | {"reason": reason}, headers=ADMIN)
        assert by_admin.status_code == 200, by_admin.text
        assert (by_admin.json()["outcome"], by_admin.json()["close_reason"]) == ("no_data", reason)

        done = await dsar.request(request["id"])
        assert (done["state"], done["outcome"], done["identifiers_purged"]) == ("completed", "complete", True)
        certificate = (await dsar.client.get(f"/v1/requests/{request['id']}/certificate", headers=READ)).json()
        steps = {s["system"]: s for s in certificate["certificate"]["systems"]}
        assert steps["archive"] | {"confirmed_at": None} == {
            "system": "archive",
            "name": "Paper archive",
            "outcome": "done",
            "records_affected": 1,
            "exemption": None,
            "detail": None,
            "confirmed_at": None,
            "confirmed_by": PERSON,
            "store_client": None,  # a person closed it: no store's client claimed it
            "confirmation": "person",
            "manual": True,
            "evidence": EVIDENCE,
            "close_reason": None,
            "recipients_notified": [],
            "holds": [],
        }
        assert (steps["ghost"]["confirmation"], steps["ghost"]["close_reason"]) == ("person", reason)
        verified = await dsar.client.post(
            "/v1/certificates/verify",
            json={"certificate": certificate["certificate"], "signature": certificate["signature"]},
            headers=READ,
        )
        assert verified.json()["valid"] is True

        entries = await audit_of(dsar, archive["id"])
        by_hand = [e for e in entries if e.action == "task.closed_by_hand"]
        assert [(e.actor, e.detail["evidence"], e.detail["outcome"]) for e in by_hand] == [(PERSON, EVIDENCE, "done")]
        assert [e.action for e in entries if e.actor == PERSON] == [
            "task.claimed",
            "task.closed_by_hand",
            "task.closed",
        ]
        # Nothing was ever published for the manual task.
        published = await read_records(infra, dsar, DSAR_TASKS, expect=2, timeout=2)
        assert [p["system"] for p in published] == ["ghost"]


async def test_an_access_task_closed_by_hand_brings_its_records_into_the_package(
    infra: Infra, topic_prefix: str
) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        archive = ARCHIVE | {"actions": ["access"]}
        assert (await dsar.client.put("/v1/systems/archive", json=archive, headers=WRITE)).status_code == 201
        request = await verified_request(dsar, "access")
        task = (await the_tasks(dsar, request["id"]))["archive"]
        url = f"/v1/tasks/{task['id']}/close"
        done = {"outcome": "done", "records_affected": 1, "evidence": "Copied the contract from cabinet C."}
        assert is_problem(await dsar.client.post(url, json=done, headers=WRITE), 422)  # the records are missing
        records = [{"document": "contract", "signed_on": "2019-04-01"}]
        closed = await dsar.client.post(url, json=done | {"records": records}, headers=WRITE)
        assert closed.status_code == 200, closed.text
        assert (closed.json()["outcome"], closed.json()["exported_records"]) == ("done", 1)
        finished = await dsar.request(request["id"])
        assert (finished["state"], finished["outcome"]) == ("completed", "complete")
        assert finished["package_id"]


async def test_an_admin_retries_an_open_escalated_or_failed_store_task(infra: Infra, topic_prefix: str) -> None:
    async with serve_dsar(infra, topic_prefix, task_max_attempts=2, task_ack_timeout_s=600) as dsar:
        await dsar.wait_consumers_ready()
        await register(dsar, "ghost", ["erase"])
        await register(dsar, "shaky", ["erase"])
        request = await verified_request(dsar)
        tasks = await the_tasks(dsar, request["id"])
        ghost, shaky = tasks["ghost"], tasks["shaky"]
        url = f"/v1/tasks/{ghost['id']}/retry"
        reason = {"reason": "The ghost store was down over the weekend; it is back."}
        assert is_problem(await dsar.client.post(url, json=reason), 401)
        assert is_problem(await dsar.client.post(url, json=reason, headers=WRITE), 403)
        assert is_problem(await dsar.client.post(url, json=reason, headers=auth("globex", "dsar:admin")), 404)
        assert is_problem(await dsar.client.post(url, json={}, headers=ADMIN), 422)

        # An open task: published again at once.
        retried = await dsar.client.post(url, json=reason, headers=ADMIN)
        assert retried.status_code == 200, retried.text
        assert (retried.json()["state"], retried.json()["attempt"]) == ("open", 2)
        # Silent after its last try: escalated, then retried by hand.
        dsar.clock.advance(timedelta(minutes=25))
        assert await dsar.runtime.jobs.run_once("dsar.task-redelivery") == 2  # ghost escalated, shaky re-published
        assert (await the_tasks(dsar, request["id"]))["ghost"]["escalated_at"] is not None
        # The tasks that need a person, across the tenant's requests: the silent one only.
        assert is_problem(await dsar.client.get("/v1/tasks"), 401)
        attention = await dsar.client.get("/v1/tasks", headers=READ)
        assert attention.status_code == 200, attention.text
        assert [(t["system"], t["request_id"]) for t in attention.json()] == [("ghost", request["id"])]
        assert (await dsar.client.get("/v1/tasks", headers=auth("globex", "dsar:read"))).json() == []
        again = await dsar.client.post(url, json=reason, headers=ADMIN)
        assert (again.json()["attempt"], again.json()["escalated_at"]) == (3, None)

        # A failed task of a request still running: re-opened and published.
        failed = DsarTaskFailed(
            task_id=uuid.UUID(shaky["id"]),
            request_id=uuid.UUID(request["id"]),
            system="shaky",
            error="disk full",
            retryable=False,
            failed_at=datetime.now(UTC),
        )
        await send_result(infra, dsar, failed)
        await eventually(lambda: _task_is(dsar, request["id"], "shaky", "outcome", "failed"))
        attention = (await dsar.client.get("/v1/tasks", headers=READ)).json()
        assert [(t["system"], t["state"], t["outcome"]) for t in attention] == [("shaky", "closed", "failed")]
        shaky_url = f"/v1/tasks/{shaky['id']}/retry"
        reopened = await dsar.client.post(shaky_url, json={"reason": "Disk replaced."}, headers=ADMIN)
        assert reopened.status_code == 200, reopened.text
        assert (reopened.json()["state"], reopened.json()["outcome"], reopened.json()["attempt"]) == ("open", None, 3)

        published = await read_records(infra, dsar, DSAR_TASKS, expect=6)
        attempts = sorted((p["system"], p["attempt"]) for p in published)
        assert attempts == [("ghost", 1), ("ghost", 2), ("ghost", 3), ("shaky", 1), ("shaky", 2), ("shaky", 3)]
        retries = [e for e in await audit_of(dsar, ghost["id"]) if e.action == "task.retried"]
        assert [(e.detail["reason"], e.detail["escalated"]) for e in retries] == [
            (reason["reason"], False),
            (reason["reason"], True),
        ]

        # Answered: no retry.
        body = {"outcome": "done", "evidence": "Deleted by hand.", "reason": "Store still flaky."}
        for task in (ghost, shaky):
            closed = await dsar.client.post(f"/v1/tasks/{task['id']}/close", json=body, headers=ADMIN)
            assert closed.status_code == 200, closed.text
        assert (await dsar.request(request["id"]))["state"] == "completed"
        assert is_problem(await dsar.client.post(url, json=reason, headers=ADMIN), 409)


async def test_a_manual_task_is_never_republished_and_escalated_once_past_its_due_time(
    infra: Infra, topic_prefix: str
) -> None:
    async with serve_dsar(infra, topic_prefix, task_max_attempts=1, task_ack_timeout_s=60) as dsar:
        assert (await dsar.client.put("/v1/systems/archive", json=ARCHIVE, headers=WRITE)).status_code == 201
        request = await verified_request(dsar)
        task = (await the_tasks(dsar, request["id"]))["archive"]
        jobs = dsar.runtime.jobs
        dsar.clock.advance(timedelta(days=1))  # far past the acknowledgement timeout: nobody acknowledges by hand
        assert await jobs.run_once("dsar.task-redelivery") == 0
        dsar.clock.advance(timedelta(days=7))  # past the task's due time
        assert await jobs.run_once("dsar.task-redelivery") == 1
        assert await jobs.run_once("dsar.task-redelivery") == 0
        shown = (await the_tasks(dsar, request["id"]))["archive"]
        assert (shown["state"], shown["attempt"], shown["escalated_at"] is not None) == ("open", 1, True)
        events = await eventually(lambda: _with_type(infra, dsar, DSAR_EVENTS, "io.privops.dsar.task.escalated"))
        (escalated,) = [e for e in events if e["type"] == "io.privops.dsar.task.escalated"]
        assert (escalated["task_id"], escalated["manual"]) == (task["id"], True)
        assert "not closed by hand" in escalated["reason"]
        assert await read_records(infra, dsar, DSAR_TASKS, expect=1, timeout=2) == []
        # Still closed by hand after its escalation.
        body = {"outcome": "no_data", "evidence": "No file under that name in cabinets A-F."}
        assert (await dsar.client.post(f"/v1/tasks/{task['id']}/close", json=body, headers=WRITE)).status_code == 200
        assert (await dsar.request(request["id"]))["state"] == "completed"


async def _with_type(infra: Infra, dsar: Dsar, topic: str, event_type: str) -> list[Any] | None:
    records = await read_records(infra, dsar, topic, expect=100, timeout=1)
    return records if any(r["type"] == event_type for r in records) else None


async def _task_is(dsar: Dsar, request_id: str, system: str, name: str, value: Any) -> bool:
    return bool((await the_tasks(dsar, request_id))[system][name] == value)
