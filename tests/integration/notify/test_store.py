"""notify as a DSAR store: access lists a subject's messages without content, erasure deletes the delivered ones."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from services.notify.service import Uow
from services.notify.service.messages import queue_requested
from services.notify.service.store import MessageStore
from shared.bus.store import TaskInput
from shared.events.catalogue.notifications import NotificationRequested
from shared.runtime.uow import UnitOfWork
from tests.support.stack import Infra, run_service

pytestmark = pytest.mark.integration

ADA, BOB = "a" * 64, "b" * 64


async def test_access_lists_and_erasure_deletes_a_subjects_messages(infra: Infra, topic_prefix: str) -> None:
    settings = infra.settings("notify", infra.fresh_database("notify"), topic_prefix, jobs_enabled=False)
    async with run_service("notify", settings) as svc:

        def uow(session: AsyncSession) -> Uow:
            return UnitOfWork(session, svc.settings, svc.clock, "acme", "test")  # type: ignore[arg-type]

        async with svc.runtime.database.session() as session:
            for ref in (ADA, ADA, BOB):
                event = NotificationRequested(
                    notification_id=uuid.uuid4(),
                    channel="email",
                    template="dsar.completed",
                    recipient_ref=ref,
                    claim_url="http://127.0.0.1:9/claim",
                )
                await queue_requested(uow(session), event, "dsar")
        store = MessageStore()
        async with svc.runtime.database.session() as session:
            records = await store.export(uow(session), TaskInput("acme", ADA, "access"))
            other_tenant = await store.export(uow(session).for_tenant("globex"), TaskInput("globex", ADA, "access"))
        assert [(r["type"], r["template"], r["state"]) for r in records] == [
            ("notification", "dsar.completed", "queued")
        ] * 2
        assert not {"claim_url", "recipient_ref", "context"} & set(records[0])
        assert other_tenant == []
        # A message still to deliver is kept (the request's own answer must not be lost); one delivered goes.
        async with svc.runtime.database.session() as session:
            kept = await store.erase(uow(session), TaskInput("acme", ADA, "erase"))
        assert (kept.outcome, kept.records_affected) == ("done", 0) and "2 message(s) still to deliver" in str(
            kept.detail
        )
        async with svc.runtime.database.session() as session:
            await session.exec(text("UPDATE message SET state = 'delivered'"))  # type: ignore[call-overload]
        async with svc.runtime.database.session() as session:
            erased = await store.erase(uow(session), TaskInput("acme", ADA, "erase"))
        assert (erased.outcome, erased.records_affected) == ("done", 2)
        async with svc.runtime.database.session() as session:
            assert await store.export(uow(session), TaskInput("acme", ADA, "access")) == []
            assert len(await store.export(uow(session), TaskInput("acme", BOB, "access"))) == 1
