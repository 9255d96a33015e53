"""Category sweeps: through the real broker to a store and back with counts; holds; retries and escalation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.events.catalogue import decode
from shared.events.catalogue.retention import RetentionSweepEscalated, RetentionSweepRequested
from shared.events.envelope import CloudEvent
from shared.events.topics import RETENTION_EVENTS
from tests.integration.retention.support import ADMIN, READ, DemoStore, answering_store, clock_of, commands, retention
from tests.support.stack import Infra, RunningService, eventually, read_topic

pytestmark = pytest.mark.integration


async def setup_tenant(svc: RunningService, system: str, categories: list[str]) -> None:
    assert (await svc.client.post("/v1/policies/default-pack", headers=ADMIN)).status_code == 201
    registered = await svc.client.put(f"/v1/systems/{system}", json={"categories": categories}, headers=ADMIN)
    assert registered.status_code == 200, registered.text


async def sweeps(svc: RunningService, **params: str) -> list[dict[str, Any]]:
    return list((await svc.client.get("/v1/sweeps", params=params, headers=READ)).json())


async def test_a_sweep_reaches_the_store_through_the_broker_and_its_counts_come_back(
    infra: Infra, topic_prefix: str
) -> None:
    async with retention(infra, topic_prefix) as svc:
        await svc.wait_consumers_ready()
        await setup_tenant(svc, "crm", ["prospect", "customer"])
        hold = {"subject_ref": "ref-held", "reason": "litigation Dupont v. Example"}
        assert (await svc.client.post("/v1/holds", json=hold, headers=ADMIN)).status_code == 201

        async with answering_store(infra, svc.settings, DemoStore("crm", records=7, held=1)) as store:
            assert await svc.runtime.jobs.run_once("retention.sweep") == 2
            done = await eventually(lambda: _completed(svc, 3), timeout=20)
        assert await svc.runtime.jobs.run_once("retention.sweep") == 0  # next turn is tomorrow

        sent = {(c.category, c.action): c for c in store.received if isinstance(c, RetentionSweepRequested)}
        prospect = sent[("prospect", "delete")]
        assert prospect.cutoff.isoformat() == "2023-03-02T09:00:00+00:00"  # 3 years before 2026-03-02 09:00
        assert prospect.held_subject_refs == ["ref-held"]
        assert prospect.policy_version == 1
        assert sent[("customer", "archive")].cutoff.isoformat() == "2025-03-02T09:00:00+00:00"
        assert sent[("customer", "delete")].cutoff.isoformat() == "2020-03-02T09:00:00+00:00"  # 1 + 5 years

        evidence = {(run["category"], run["action"]): run for run in done}
        assert evidence[("prospect", "delete")]["counts"] == {
            "deleted": 7,
            "anonymised": 0,
            "archived": 0,
            "skipped_held": 1,
        }
        assert evidence[("customer", "archive")]["counts"]["archived"] == 7
        for run in done:
            assert run["requested_by"] == "job:retention.sweep"
            assert run["policy_version"] == 1 and run["completed_at"]
        report = (await svc.client.get("/v1/report", headers=READ)).json()
        assert {(s["category"], s["last_sweep"]["status"]) for s in report["systems"]} == {
            ("customer", "completed"),
            ("prospect", "completed"),
        }
        assert report["overdue_sweeps"] == []
        assert [h["reason"] for h in report["holds"]] == ["litigation Dupont v. Example"]


async def test_a_hold_stops_the_sweep_and_its_release_lets_the_next_one_run(infra: Infra, topic_prefix: str) -> None:
    async with retention(infra, topic_prefix) as svc:
        await setup_tenant(svc, "edge", ["connection_log"])
        placed = await svc.client.post(
            "/v1/holds", json={"system": "edge", "reason": "police request on the edge logs"}, headers=ADMIN
        )
        hold_id = placed.json()["id"]
        preview = (await svc.client.get("/v1/preview", headers=READ)).json()
        assert preview[0]["whole_sweep_held"] and preview[0]["steps"] == [] and preview[0]["hold_ids"] == [hold_id]

        assert await svc.runtime.jobs.run_once("retention.sweep") == 1
        held = await sweeps(svc)
        assert [(r["status"], r["hold_ids"]) for r in held] == [("held", [hold_id])]
        assert await commands(infra, svc.settings, expect=1, timeout=3) == []  # nothing was sent

        await svc.client.post(f"/v1/holds/{hold_id}/release", json={"reason": "closed"}, headers=ADMIN)
        preview = (await svc.client.get("/v1/preview", headers=READ)).json()
        assert preview[0]["steps"][0]["action"] == "delete"
        assert preview[0]["steps"][0]["cutoff"].startswith("2025-03-02T09:00")
        clock_of(svc).advance(timedelta(days=1))
        assert await svc.runtime.jobs.run_once("retention.sweep") == 1
        sent = await commands(infra, svc.settings, expect=1)
        assert [(c.system, c.category) for c in sent] == [("edge", "connection_log")]


async def test_unanswered_sweeps_are_sent_again_then_escalated(infra: Infra, topic_prefix: str) -> None:
    async with retention(infra, topic_prefix, sweep_answer_timeout="PT1H", sweep_max_attempts=2) as svc:
        await setup_tenant(svc, "web", ["cookie"])
        await svc.runtime.jobs.run_once("retention.sweep")
        assert await svc.runtime.jobs.run_once("retention.sweep-retry") == 0
        clock_of(svc).advance(timedelta(minutes=61))
        assert await svc.runtime.jobs.run_once("retention.sweep-retry") == 1
        sent = await commands(infra, svc.settings, expect=2)
        assert len(sent) == 2 and len({c.sweep_id for c in sent}) == 1  # same sweep, sent again
        clock_of(svc).advance(timedelta(minutes=61))
        assert await svc.runtime.jobs.run_once("retention.sweep-retry") == 1
        [run] = await sweeps(svc)
        assert (run["status"], run["attempts"]) == ("escalated", 2)
        records = await read_topic(infra.broker.bootstrap, svc.settings.topic(RETENTION_EVENTS), expect=20, timeout=3)
        events = [decode(CloudEvent.from_kafka(list(r.headers), r.value)) for r in records]
        escalations = [e for e in events if isinstance(e, RetentionSweepEscalated)]
        assert [(e.sweep_id, e.attempts) for e in escalations] == [(sent[0].sweep_id, 2)]
        report = (await svc.client.get("/v1/report", headers=READ)).json()
        assert [r["id"] for r in report["overdue_sweeps"]] == [run["id"]]


async def _completed(svc: RunningService, count: int) -> list[dict[str, Any]] | None:
    runs = await sweeps(svc, status="completed")
    return runs if len(runs) >= count else None
