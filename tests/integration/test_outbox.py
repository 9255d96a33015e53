"""Transactional outbox: nothing leaves unless committed; nothing committed is lost; one relay at a time."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from sqlmodel import col, select

from shared.clock import ManualClock
from shared.db import Database
from shared.events.catalogue.consent import ConsentGranted
from shared.events.envelope import CloudEvent
from shared.events.topics import CONSENT_EVENTS
from shared.outbox import OutboxMessage, OutboxRelay, stage
from shared.settings import ServiceSettings
from tests.support.stack import Infra, eventually, read_topic

pytestmark = pytest.mark.integration
CLOCK = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


def granted(purpose: str = "newsletter", subject: str = "ref-1") -> ConsentGranted:
    return ConsentGranted(
        consent_id=uuid.uuid4(), subject_ref=subject, purpose=purpose, decision="granted", occurred_at=CLOCK.now()
    )


@contextlib.asynccontextmanager
async def outbox_env(infra: Infra, prefix: str) -> AsyncIterator[tuple[Database, ServiceSettings, AIOKafkaProducer]]:
    settings = infra.settings("consent", infra.fresh_database("consent"), prefix)
    database = Database(settings.database_url, pool_size=4)
    producer = AIOKafkaProducer(bootstrap_servers=infra.broker.bootstrap, acks="all")
    await producer.start()
    try:
        yield database, settings, producer
    finally:
        await producer.stop()
        await database.dispose()


async def stage_committed(database: Database, *events: ConsentGranted, tenant: str = "acme") -> None:
    async with database.session() as session:
        for event in events:
            await stage(session, event, tenant_id=tenant, subject=event.subject_ref, clock=CLOCK, service="consent")


async def test_event_staged_in_a_rolled_back_transaction_is_never_published(infra: Infra, topic_prefix: str) -> None:
    async with outbox_env(infra, topic_prefix) as (database, settings, producer):
        with pytest.raises(RuntimeError):
            async with database.session() as session:
                await stage(
                    session, granted("rolled-back"), tenant_id="acme", subject="ref-1", clock=CLOCK, service="consent"
                )
                raise RuntimeError("the state change failed")
        await stage_committed(database, granted("committed"))
        relay = OutboxRelay(database, producer, settings)
        assert await relay.publish_batch() == 1
        records = await read_topic(infra.broker.bootstrap, settings.topic(CONSENT_EVENTS), expect=2, timeout=3)
        purposes = [CloudEvent.from_kafka(r.headers, r.value).data["purpose"] for r in records]
        assert purposes == ["committed"]


async def test_relay_killed_after_commit_publishes_after_restart(infra: Infra, topic_prefix: str) -> None:
    async with outbox_env(infra, topic_prefix) as (database, settings, producer):
        # The state change committed while no relay was running (it had been killed).
        await stage_committed(database, granted("survives-a-crash"))
        topic = settings.topic(CONSENT_EVENTS)
        assert await read_topic(infra.broker.bootstrap, topic, expect=1, timeout=1.5) == []
        relay = OutboxRelay(database, producer, settings)
        task = asyncio.create_task(relay.run())
        try:
            records = await read_topic(infra.broker.bootstrap, topic, expect=1)
            assert len(records) == 1
            envelope = CloudEvent.from_kafka(records[0].headers, records[0].value)
            assert envelope.type == "io.privops.consent.granted"
            assert envelope.tenantid == "acme"
            assert records[0].key == b"acme:ref-1"

            async def marked() -> bool:
                async with database.session() as session:
                    rows = (await session.exec(select(OutboxMessage))).all()
                    return all(r.published_at is not None for r in rows)

            await eventually(marked)
        finally:
            relay.stop()
            await task


async def test_events_of_one_subject_are_published_in_order(infra: Infra, topic_prefix: str) -> None:
    async with outbox_env(infra, topic_prefix) as (database, settings, producer):
        events = [granted(f"p{i:03d}", subject="same-person") for i in range(60)]
        await stage_committed(database, *events)
        relay = OutboxRelay(database, producer, settings)
        assert await relay.publish_batch() == 60
        records = await read_topic(infra.broker.bootstrap, settings.topic(CONSENT_EVENTS), expect=60)
        assert len({r.partition for r in records}) == 1
        assert [CloudEvent.from_kafka(r.headers, r.value).data["purpose"] for r in records] == [
            f"p{i:03d}" for i in range(60)
        ]


async def test_only_one_relay_is_active_and_a_standby_takes_over(infra: Infra, topic_prefix: str) -> None:
    async with outbox_env(infra, topic_prefix) as (database, settings, producer):
        first = OutboxRelay(database, producer, settings, standby_interval_s=0.2)
        second = OutboxRelay(database, producer, settings, standby_interval_s=0.2)
        tasks = [asyncio.create_task(first.run()), asyncio.create_task(second.run())]
        try:
            await eventually(lambda: _true(first.active or second.active))
            await asyncio.sleep(0.5)
            assert first.active != second.active
            leader, standby = (first, second) if first.active else (second, first)
            leader.stop()
            await tasks[0 if leader is first else 1]
            await eventually(lambda: _true(standby.active))
            await stage_committed(database, granted("after-failover"))
            records = await read_topic(infra.broker.bootstrap, settings.topic(CONSENT_EVENTS), expect=1)
            assert len(records) == 1
        finally:
            first.stop()
            second.stop()
            await asyncio.gather(*tasks)


async def test_backlog_metrics_report_size_and_age(infra: Infra, topic_prefix: str) -> None:
    async with outbox_env(infra, topic_prefix) as (database, settings, producer):
        await stage_committed(database, granted("a"), granted("b"))
        relay = OutboxRelay(database, producer, settings)
        backlog, age = await relay.refresh_metrics()
        assert backlog == 2
        assert age >= 0
        await relay.publish_batch()
        assert (await relay.refresh_metrics())[0] == 0
        async with database.session() as session:
            unpublished = (
                await session.exec(select(OutboxMessage).where(col(OutboxMessage.published_at).is_(None)))
            ).all()
            assert unpublished == []


async def _true(value: bool) -> bool:
    return value
