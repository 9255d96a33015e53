"""As a DSAR store, the breach register acts on every identifier of the request, not only the first."""

from __future__ import annotations

import pytest
from sqlmodel import select

from services.breach.models import AffectedSubject, Incident
from services.breach.service.store import BreachStore
from shared.bus.store import TaskInput
from shared.runtime.uow import UnitOfWork
from tests.integration.breach.support import INCIDENT, REF_A, REF_B, WRITER, breach_service
from tests.support.stack import Infra, auth

pytestmark = pytest.mark.integration
H = auth("acme", *WRITER)
OTHER_IDENTIFIER = "f" * 64  # the person's first identifier, under which no breach recorded them


async def test_export_and_erasure_find_the_subject_under_a_second_identifier(infra: Infra, topic_prefix: str) -> None:
    async with breach_service(infra, topic_prefix) as svc:
        iid = (await svc.client.post("/v1/incidents", json=INCIDENT, headers=H)).json()["id"]
        attached = await svc.client.post(
            f"/v1/incidents/{iid}/affected-subjects", json={"subject_refs": [REF_A, REF_B]}, headers=H
        )
        assert attached.status_code == 200, attached.text
        store = BreachStore()
        task = TaskInput(
            tenant_id="acme", subject_ref=OTHER_IDENTIFIER, action="access", subject_refs=(OTHER_IDENTIFIER, REF_B)
        )
        async with svc.runtime.database.session() as session:
            acme = UnitOfWork(session, svc.settings, svc.clock, "acme", "test")
            reference = (await session.exec(select(Incident.reference))).one()
            old_task = TaskInput(tenant_id="acme", subject_ref=OTHER_IDENTIFIER, action="access")
            assert await store.export(acme, old_task) == []
            assert [r["incident"] for r in await store.export(acme, task)] == [reference]
            both = TaskInput(tenant_id="acme", subject_ref=REF_A, action="access", subject_refs=(REF_A, REF_B))
            assert [r["incident"] for r in await store.export(acme, both)] == [reference]  # once, not per identifier
            globex = TaskInput(tenant_id="globex", subject_ref=OTHER_IDENTIFIER, action="access", subject_refs=(REF_B,))
            assert await store.export(acme.for_tenant("globex"), globex) == []

            erased = await store.erase(
                acme, TaskInput(tenant_id="acme", subject_ref=OTHER_IDENTIFIER, action="erase", subject_refs=(REF_B,))
            )
            assert (erased.outcome, erased.records_affected) == ("done", 1)
            await session.commit()
        async with svc.runtime.database.session() as session:
            assert list((await session.exec(select(AffectedSubject.subject_ref))).all()) == [REF_A]
