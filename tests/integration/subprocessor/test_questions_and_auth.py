"""Tenancy and auth on every private route, the breach service's question answered by event, DSAR tasks on contacts."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from sqlmodel import select

from services.subprocessor.domain.keys import contact_subject_ref
from services.subprocessor.models import CustomerContact
from services.subprocessor.service.store import ContactStore
from shared.bus.outbox import build_envelope
from shared.bus.store import TaskInput
from shared.events.catalogue.breach import SubprocessorAffectedCustomersRequested
from shared.events.topics import BREACH_EVENTS, SUBPROCESSOR_EVENTS
from shared.runtime.uow import UnitOfWork
from tests.support.stack import SUBJECT_KEY, Infra, auth, read_topic, run_service

pytestmark = pytest.mark.integration
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SUB = {
    "name": "PostBox",
    "legal_entity": "PostBox Ltd",
    "service": "Email",
    "purposes": ["email"],
    "data_categories": ["contact_details"],
    "locations": [{"country": "GB", "mechanism": "adequacy"}],
    "status": "active",
}


async def test_auth_tenancy_breach_question_and_contact_erasure(infra: Infra, topic_prefix: str) -> None:
    settings = infra.settings("subprocessor", infra.fresh_database("subprocessor"), topic_prefix, jobs_enabled=False)
    async with run_service("subprocessor", settings) as svc:
        write = auth("acme", "subprocessor:write")
        sub = (await svc.client.post("/v1/subprocessors", json=SUB, headers=write)).json()
        assert (await svc.client.post("/v1/subprocessors", json=SUB)).status_code == 401
        assert (
            await svc.client.post("/v1/subprocessors", json=SUB, headers=auth("acme", "subprocessor:read"))
        ).status_code == 403
        assert (
            await svc.client.get(f"/v1/subprocessors/{sub['id']}", headers=auth("globex", "subprocessor:read"))
        ).status_code == 404
        assert (await svc.client.get("/v1/changes", headers=auth("acme", "consent:admin"))).status_code == 403
        customer = {
            "reference": "initech",
            "name": "Initech",
            "contacts": [{"email": "Ada@Initech.example"}],
            "subprocessor_ids": [sub["id"]],
        }
        created = await svc.client.post("/v1/customers", json=customer, headers=write)
        assert created.status_code == 201, created.text
        assert created.json()["notice_period_days"] == 15
        ref = created.json()["contacts"][0]["subject_ref"]
        assert ref == contact_subject_ref(SUBJECT_KEY.encode(), "ada@initech.example", tenant="acme")

        await svc.wait_consumers_ready()
        question = SubprocessorAffectedCustomersRequested(
            incident_id=uuid.uuid4(), request_id=uuid.uuid4(), subprocessor_id=sub["id"]
        )
        envelope = build_envelope(question, source="/privops/breach", tenant_id="acme", subject=None, now=NOW)
        producer = AIOKafkaProducer(bootstrap_servers=infra.broker.bootstrap, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(
                settings.topic(BREACH_EVENTS),
                value=envelope.data_bytes(),
                key=b"acme",
                headers=envelope.to_kafka_headers(),
            )
        finally:
            await producer.stop()
        records = await read_topic(infra.broker.bootstrap, settings.topic(SUBPROCESSOR_EVENTS), expect=1, timeout=20)
        answers = [json.loads(r.value) for r in records if dict(r.headers)["ce_type"].endswith(b"customers.identified")]
        assert answers == [
            {"request_id": str(question.request_id), "subprocessor_id": sub["id"], "customer_ids": ["initech"]}
        ]

        # As a DSAR store: access exports the contact, erasure removes it.
        task = TaskInput(tenant_id="acme", subject_ref=ref, action="erase")
        store = ContactStore()
        async with svc.runtime.database.session() as session:
            uow = UnitOfWork(session, svc.settings, svc.clock, "acme", "test")
            exported = await store.export(uow, task)
            assert [e["email"] for e in exported] == ["Ada@Initech.example"]
            assert (await store.erase(uow, task)).records_affected == 1
        async with svc.runtime.database.session() as session:
            assert (await session.exec(select(CustomerContact))).all() == []
            uow = UnitOfWork(session, svc.settings, svc.clock, "acme", "test")
            assert (await store.erase(uow, task)).outcome == "no_data"


async def test_the_openapi_example_of_a_subprocessor_is_accepted(infra: Infra, topic_prefix: str) -> None:
    """The documented example (with ``dpa_signed_on``, a date kept in the version history) once answered 500."""
    settings = infra.settings("subprocessor", infra.fresh_database("subprocessor"), topic_prefix)
    async with run_service("subprocessor", settings) as svc:
        schema = svc.app.openapi()["components"]["schemas"]["SubprocessorIn"]
        example = schema["examples"][0]
        assert "dpa_signed_on" in example
        created = await svc.client.post("/v1/subprocessors", json=example, headers=auth("acme", "subprocessor:write"))
        assert created.status_code == 201, created.text
        assert created.json()["dpa_signed_on"] == example["dpa_signed_on"]
