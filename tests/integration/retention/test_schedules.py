"""Subject-level schedules: a withdrawn consent deleted on time, holds, and DSAR erasure answered as a store."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from shared.events.catalogue import decode
from shared.events.catalogue.consent import ConsentWithdrawn
from shared.events.catalogue.dsar import DsarTaskCompleted, DsarTaskRequested
from shared.events.catalogue.retention import RetentionSubjectSweepRequested
from shared.events.envelope import CloudEvent
from shared.events.topics import DSAR_TASK_RESULTS
from tests.integration.retention.support import (
    ADMIN,
    READ,
    START,
    TENANT,
    DemoStore,
    answering_store,
    clock_of,
    produce,
    retention,
)
from tests.support.stack import Infra, RunningService, eventually, read_topic

pytestmark = pytest.mark.integration


async def schedules(svc: RunningService, subject_ref: str) -> list[dict[str, Any]]:
    response = await svc.client.get("/v1/schedules", params={"subject_ref": subject_ref}, headers=READ)
    return list(response.json())


async def test_a_withdrawn_consent_leads_to_a_deletion_at_the_right_time(infra: Infra, topic_prefix: str) -> None:
    async with retention(infra, topic_prefix) as svc:
        await svc.wait_consumers_ready()
        await svc.client.put("/v1/systems/mailer", json={"categories": ["consent_based"]}, headers=ADMIN)
        withdrawn = ConsentWithdrawn(
            consent_id=uuid.uuid4(),
            subject_ref="ref-ada",
            purpose="newsletter",
            decision="withdrawn",
            occurred_at=START,
        )
        await produce(infra, svc.settings, withdrawn, tenant=TENANT, subject="ref-ada")
        [schedule] = await eventually(lambda: schedules(svc, "ref-ada"))
        assert (schedule["category"], schedule["purpose"]) == ("consent_based", "newsletter")
        assert schedule["due_at"].startswith("2026-04-01T09:00")  # 30 days of grace

        async with answering_store(infra, svc.settings, DemoStore("mailer")) as store:
            clock_of(svc).advance(timedelta(days=30) - timedelta(seconds=1))
            assert await svc.runtime.jobs.run_once("retention.schedules") == 0  # one second early: nothing
            clock_of(svc).advance(timedelta(seconds=1))
            assert await svc.runtime.jobs.run_once("retention.schedules") == 1
            [done] = await eventually(lambda: _with_status(svc, "ref-ada", "done"), timeout=20)
        [command] = store.received
        assert isinstance(command, RetentionSubjectSweepRequested)
        assert (command.subject_refs, command.action, command.purpose) == (["ref-ada"], "delete", "newsletter")
        assert done["closed_at"]
        [run] = (await svc.client.get("/v1/sweeps", params={"system": "mailer"}, headers=READ)).json()
        assert (run["kind"], run["subject_count"], run["counts"]["deleted"]) == ("subject", 1, 1)


async def test_a_held_subject_waits_and_goes_at_the_run_after_release(infra: Infra, topic_prefix: str) -> None:
    async with retention(infra, topic_prefix) as svc:
        await svc.client.put("/v1/systems/shop", json={"categories": ["account"]}, headers=ADMIN)
        await svc.client.post("/v1/accounts/closures", json={"subject_ref": "ref-bob"}, headers=ADMIN)
        hold = await svc.client.post("/v1/holds", json={"subject_ref": "ref-bob", "reason": "audit"}, headers=ADMIN)
        clock_of(svc).advance(timedelta(days=91))
        assert await svc.runtime.jobs.run_once("retention.schedules") == 1
        assert [s["status"] for s in await schedules(svc, "ref-bob")] == ["held"]
        await svc.client.post(f"/v1/holds/{hold.json()['id']}/release", json={}, headers=ADMIN)
        assert await svc.runtime.jobs.run_once("retention.schedules") == 1
        assert [s["status"] for s in await schedules(svc, "ref-bob")] == ["requested"]


async def test_a_schedule_without_a_system_waits_for_one(infra: Infra, topic_prefix: str) -> None:
    async with retention(infra, topic_prefix) as svc:
        await svc.client.post("/v1/accounts/closures", json={"subject_ref": "ref-cy"}, headers=ADMIN)
        clock_of(svc).advance(timedelta(days=91))
        await svc.runtime.jobs.run_once("retention.schedules")
        assert [s["status"] for s in await schedules(svc, "ref-cy")] == ["unrouted"]
        await svc.client.put("/v1/systems/shop", json={"categories": ["account"]}, headers=ADMIN)
        assert await svc.runtime.jobs.run_once("retention.schedules") == 1
        assert [s["status"] for s in await schedules(svc, "ref-cy")] == ["requested"]


async def test_erasure_tasks_cancel_schedules_or_report_the_hold(infra: Infra, topic_prefix: str) -> None:
    async with retention(infra, topic_prefix) as svc:
        await svc.wait_consumers_ready()
        for ref in ("ref-free", "ref-kept"):
            await svc.client.post("/v1/accounts/closures", json={"subject_ref": ref}, headers=ADMIN)
        await svc.client.post(
            "/v1/holds", json={"subject_ref": "ref-kept", "reason": "litigation Dupont"}, headers=ADMIN
        )
        tasks = {}
        for ref in ("ref-free", "ref-kept", "ref-unknown"):
            task = DsarTaskRequested(
                task_id=uuid.uuid4(),
                request_id=uuid.uuid4(),
                action="erase",
                system="privops-retention",
                subject_ref=ref,
                claim_url="http://dsar.invalid/v1/tasks/x/claim",
                due_at=START + timedelta(days=30),
            )
            tasks[task.task_id] = ref
            await produce(infra, svc.settings, task, tenant=TENANT, subject=ref)
        records = await read_topic(infra.broker.bootstrap, svc.settings.topic(DSAR_TASK_RESULTS), expect=3)
        results = {}
        for record in records:
            event = decode(CloudEvent.from_kafka(list(record.headers), record.value))
            assert isinstance(event, DsarTaskCompleted)
            results[tasks[event.task_id]] = event
        assert (results["ref-free"].outcome, results["ref-free"].records_affected) == ("done", 1)
        assert results["ref-kept"].outcome == "exempt"
        assert "legal hold" in (results["ref-kept"].exemption or "")
        assert "litigation Dupont" not in (results["ref-kept"].exemption or "")  # free text may name people
        assert results["ref-unknown"].outcome == "no_data"
        assert [s["status"] for s in await schedules(svc, "ref-free")] == ["cancelled"]
        assert [s["status"] for s in await schedules(svc, "ref-kept")] == ["pending"]


async def _with_status(svc: RunningService, subject_ref: str, status: str) -> list[dict[str, Any]] | None:
    found = [s for s in await schedules(svc, subject_ref) if s["status"] == status]
    return found or None
