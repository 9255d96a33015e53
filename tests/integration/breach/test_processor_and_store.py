"""A breach at a subprocessor: customers filled in by event, told per contract; the breach service as a DSAR store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from services.breach.models import AffectedSubject, Incident
from services.breach.service.store import BreachStore
from shared.bus.outbox import OutboxMessage
from shared.bus.store import TaskInput
from shared.events.catalogue.dsar import DsarTaskRequested
from shared.events.catalogue.subprocessor import SubprocessorCustomersIdentified
from shared.events.topics import BREACH_EVENTS, DSAR_TASK_RESULTS, NOTIFICATIONS
from shared.runtime.uow import UnitOfWork
from tests.integration.breach.support import (
    INCIDENT,
    REF_A,
    REF_B,
    WRITER,
    assert_problem,
    breach_service,
    produce,
    published,
)
from tests.support.stack import Infra, RunningService, auth, eventually

pytestmark = pytest.mark.integration
H = auth("acme", *WRITER)


async def test_subprocessor_breach_fills_customers_and_tells_each_per_contract(infra: Infra, topic_prefix: str) -> None:
    async with breach_service(infra, topic_prefix, contract_notice_hours=48) as svc:
        await svc.wait_consumers_ready()
        created = await svc.client.post(
            "/v1/incidents", json=INCIDENT | {"role": "processor", "subprocessor_id": "sp-mailer"}, headers=H
        )
        assert created.status_code == 201, created.text
        iid = created.json()["id"]
        controller = next(d for d in created.json()["deadlines"] if d["audience"] == "controller")
        assert controller["due_at"] == "2026-03-04T08:00:00Z"  # the contract's 48 hours
        assert "customer contract (48 h)" in controller["citation"]

        question = next(e for e in await published(svc, BREACH_EVENTS) if e.type.endswith("requested"))
        assert question.data["subprocessor_id"] == "sp-mailer"
        await produce(
            svc,
            SubprocessorCustomersIdentified(
                request_id=uuid.UUID(question.data["request_id"]),
                subprocessor_id="sp-mailer",
                customer_ids=["cust-1", "cust-2"],
            ),
            source="/privops/subprocessor",
        )

        async def customers() -> list[str]:
            return list((await svc.client.get(f"/v1/incidents/{iid}", headers=H)).json()["customers"])

        assert await eventually(customers) == ["cust-1", "cust-2"]

        stranger = await svc.client.post(
            f"/v1/incidents/{iid}/notices", json={"kind": "controller", "customer_id": "cust-9"}, headers=H
        )
        assert_problem(stranger, 422)
        for customer, status_after in (("cust-1", "open"), ("cust-2", "met")):
            notice = await svc.client.post(
                f"/v1/incidents/{iid}/notices",
                json={
                    "kind": "controller",
                    "customer_id": customer,
                    "to_follow": {"approximate_records": "Subprocessor still investigating."},
                },
                headers=H,
            )
            assert notice.status_code == 201, notice.text
            assert "From: privops tenant (processor)" in notice.json()["body"]
            sent = await svc.client.post(f"/v1/notices/{notice.json()['id']}/send", json={}, headers=H)
            assert sent.json()["deliveries"][0]["channel"] == "email"
            deadlines = (await svc.client.get(f"/v1/incidents/{iid}/deadlines", headers=H)).json()
            assert next(d for d in deadlines if d["audience"] == "controller")["status"] == status_after

        notifications = await published(svc, NOTIFICATIONS)
        assert sorted((n.data["channel"], n.data["recipient_ref"]) for n in notifications) == [
            ("email", "cust-1"),
            ("email", "cust-2"),
        ]
        timeline = (await svc.client.get(f"/v1/incidents/{iid}/timeline", headers=H)).json()
        identified = next(t for t in timeline if t["kind"] == "customers.identified")
        assert identified["actor"] == "event:io.privops.subprocessor.customers.identified"


async def attach(svc: RunningService) -> str:
    iid = (await svc.client.post("/v1/incidents", json=INCIDENT, headers=H)).json()["id"]
    response = await svc.client.post(
        f"/v1/incidents/{iid}/affected-subjects", json={"subject_refs": [REF_A, REF_B]}, headers=H
    )
    assert response.status_code == 200
    return str(iid)


async def test_erasure_removes_the_reference_and_keeps_the_counts(infra: Infra, topic_prefix: str) -> None:
    async with breach_service(infra, topic_prefix) as svc:
        await svc.wait_consumers_ready()
        iid = await attach(svc)
        task = DsarTaskRequested(
            task_id=uuid.uuid4(),
            request_id=uuid.uuid4(),
            action="erase",
            system="privops-breach",
            subject_ref=REF_A,
            claim_url="http://dsar.invalid/v1/tasks/x/claim",
            due_at=datetime(2026, 4, 1, tzinfo=UTC),
        )
        await produce(svc, task, source="/privops/dsar")

        async def answered() -> list[OutboxMessage]:
            async with svc.runtime.database.session() as session:
                rows = await session.exec(select(OutboxMessage).where(col(OutboxMessage.topic) == DSAR_TASK_RESULTS))
                return list(rows.all())

        [result] = await eventually(answered)
        assert result.event_type == "io.privops.dsar.task.completed"
        assert b'"outcome":"done"' in result.payload and b'"records_affected":1' in result.payload
        incident = (await svc.client.get(f"/v1/incidents/{iid}", headers=H)).json()
        assert incident["affected_subject_refs"] == 1
        assert incident["approximate_subjects"] == 1200  # the register keeps its counts
        async with svc.runtime.database.session() as session:
            refs = (await session.exec(select(AffectedSubject.subject_ref))).all()
        assert list(refs) == [REF_B]


async def test_access_lists_the_incidents_that_affected_the_subject(infra: Infra, topic_prefix: str) -> None:
    async with breach_service(infra, topic_prefix) as svc:
        await attach(svc)
        store = BreachStore()
        async with svc.runtime.database.session() as session:
            acme = UnitOfWork(session, svc.settings, svc.clock, "acme", "test")
            mine = await store.export(acme, TaskInput(tenant_id="acme", subject_ref=REF_B, action="access"))
            other_tenant = await store.export(
                acme.for_tenant("globex"), TaskInput(tenant_id="globex", subject_ref=REF_B, action="access")
            )
            nobody = await store.export(acme, TaskInput(tenant_id="acme", subject_ref="f" * 64, action="access"))
            reference = (await session.exec(select(Incident.reference))).one()
        assert [(r["incident"], r["title"]) for r in mine] == [(reference, INCIDENT["title"])]
        assert other_tenant == [] and nobody == []
