"""As a DSAR store, the contact store acts on every identifier of the request, not only the first."""

from __future__ import annotations

import pytest
from sqlmodel import select

from services.subprocessor.domain.keys import contact_subject_ref
from services.subprocessor.models import CustomerContact
from services.subprocessor.service.store import ContactStore
from shared.bus.store import TaskInput
from shared.runtime.uow import UnitOfWork
from tests.support.stack import SUBJECT_KEY, Infra, auth, run_service

pytestmark = pytest.mark.integration
OTHER_IDENTIFIER = "f" * 64  # the person's first identifier (a phone, say), which no contact is recorded under


async def test_a_contact_under_a_second_identifier_is_exported_restricted_and_erased(
    infra: Infra, topic_prefix: str
) -> None:
    settings = infra.settings("subprocessor", infra.fresh_database("subprocessor"), topic_prefix, jobs_enabled=False)
    async with run_service("subprocessor", settings) as svc:
        customer = {"reference": "initech", "name": "Initech", "contacts": [{"email": "Ada@Initech.example"}]}
        created = await svc.client.post("/v1/customers", json=customer, headers=auth("acme", "subprocessor:write"))
        assert created.status_code == 201, created.text
        ref = contact_subject_ref(SUBJECT_KEY.encode(), "ada@initech.example", tenant="acme")

        store = ContactStore()
        task = TaskInput(
            tenant_id="acme", subject_ref=OTHER_IDENTIFIER, action="erase", subject_refs=(OTHER_IDENTIFIER, ref)
        )
        old_task = TaskInput(tenant_id="acme", subject_ref=OTHER_IDENTIFIER, action="erase")
        async with svc.runtime.database.session() as session:
            uow = UnitOfWork(session, svc.settings, svc.clock, "acme", "test")
            assert await store.export(uow, old_task) == []
            assert [e["email"] for e in await store.export(uow, task)] == ["Ada@Initech.example"]
            assert (await store.restrict(uow, task, lift=False)).records_affected == 1
            assert (await session.exec(select(CustomerContact.restricted))).all() == [True]
            assert (await store.object(uow, task)).records_affected == 1
            other_tenant = TaskInput(
                tenant_id="globex", subject_ref=OTHER_IDENTIFIER, action="erase", subject_refs=(ref,)
            )
            assert (await store.erase(uow.for_tenant("globex"), other_tenant)).outcome == "no_data"
            assert (await store.erase(uow, task)).records_affected == 1
            await session.commit()
        async with svc.runtime.database.session() as session:
            assert (await session.exec(select(CustomerContact))).all() == []
