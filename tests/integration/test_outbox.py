"""Transactional outbox: nothing leaves unless committed; nothing committed is lost; one relay at a time."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, cast

import lz4.frame
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from sqlalchemy import event as sa_event
from sqlmodel import col, select

from shared.bus.outbox import (
    OUTBOX_COLUMNS,
    PACK_COUNT_HEADER,
    PACK_SIZE,
    PACKED_EVENT_TYPE,
    OutboxMessage,
    build_envelope,
    outbox_rows,
    stage,
    stage_many,
    staged_events,
    unpack,
)
from shared.bus.relay import OutboxRelay
from shared.events.catalogue.consent import ConsentGranted
from shared.events.envelope import CloudEvent
from shared.events.topics import CONSENT_EVENTS
from shared.rules.clock import ManualClock
from shared.runtime.db import Database, copy_rows
from shared.runtime.logging import correlation_id_var
from shared.runtime.settings import ServiceSettings
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


async def stage_around(
    database: Database,
    first: tuple[str, str],
    bulk: list[tuple[str, str]],
    last: tuple[str, str],
    *,
    packed: bool = False,
) -> int:
    """Grants (purpose, subject): ``first`` staged alone, ``bulk`` by ``stage_many``, ``last`` alone; its count."""
    async with database.session() as session:
        purpose, subject = first
        await stage(session, granted(purpose, subject), tenant_id="acme", subject=subject, clock=CLOCK,
                    service="consent")  # fmt: skip
        pairs = [(granted(purpose, subject), subject) for purpose, subject in bulk]
        staged = await stage_many(session, pairs, tenant_id="acme", clock=CLOCK, service="consent", packed=packed)
        purpose, subject = last
        await stage(session, granted(purpose, subject), tenant_id="acme", subject=subject, clock=CLOCK,
                    service="consent")  # fmt: skip
    return staged


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


async def test_stage_many_keeps_the_order_of_everything_staged_in_the_transaction(
    infra: Infra, topic_prefix: str
) -> None:
    async with outbox_env(infra, topic_prefix) as (database, settings, producer):
        bulk = [(f"p{i:03d}", "same-person") for i in range(1, 1200)]
        assert await stage_around(database, ("p000", "same-person"), bulk, ("p1200", "same-person")) == 1199
        relay = OutboxRelay(database, producer, settings)
        while await relay.publish_batch():
            pass
        records = await read_topic(infra.broker.bootstrap, settings.topic(CONSENT_EVENTS), expect=1201)
        envelopes = [CloudEvent.from_kafka(r.headers, r.value) for r in records]
        assert [e.data["purpose"] for e in envelopes] == [f"p{i:03d}" for i in range(1201)]
        assert {r.key for r in records} == {b"acme:same-person"}
        assert len({e.id for e in envelopes}) == 1201


async def test_events_staged_in_bulk_in_a_rolled_back_transaction_are_never_published(
    infra: Infra, topic_prefix: str
) -> None:
    async with outbox_env(infra, topic_prefix) as (database, settings, producer):
        with pytest.raises(RuntimeError):
            async with database.session() as session:
                bulk = [(granted(f"gone-{i}"), "ref-1") for i in range(50)]
                await stage_many(session, bulk, tenant_id="acme", clock=CLOCK, service="consent")
                raise RuntimeError("the state change failed")
        async with database.session() as session:
            await stage_many(session, [(granted("kept"), "ref-1")], tenant_id="acme", clock=CLOCK, service="consent")
        relay = OutboxRelay(database, producer, settings)
        assert await relay.publish_batch() == 1
        records = await read_topic(infra.broker.bootstrap, settings.topic(CONSENT_EVENTS), expect=2, timeout=3)
        assert [CloudEvent.from_kafka(r.headers, r.value).data["purpose"] for r in records] == ["kept"]


async def test_copy_rows_as_the_first_statement_belongs_to_the_session_transaction(
    infra: Infra, topic_prefix: str
) -> None:
    # A COPY on the raw connection before any statement would commit on its own; copy_rows opens the
    # session's transaction first, so a rollback takes the rows with it.
    async with outbox_env(infra, topic_prefix) as (database, _settings, _producer):
        rows = outbox_rows([(granted("copied"), "ref-1")], tenant_id="acme", source="/privops/consent", now=CLOCK.now())
        with pytest.raises(RuntimeError):
            async with database.session() as session:
                await copy_rows(session, OutboxMessage.__tablename__, OUTBOX_COLUMNS, rows)
                raise RuntimeError("the state change failed")
        async with database.session() as session:
            assert (await session.exec(select(OutboxMessage))).all() == []
            await copy_rows(session, OutboxMessage.__tablename__, OUTBOX_COLUMNS, rows)
        async with database.session() as session:
            assert [row.event_id for row in (await session.exec(select(OutboxMessage))).all()] == [rows[0][0]]


async def test_a_transaction_notifies_the_relay_once_however_many_events_it_stages(
    infra: Infra, topic_prefix: str
) -> None:
    async with outbox_env(infra, topic_prefix) as (database, _settings, _producer):
        statements: list[str] = []

        def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
            statements.append(statement)

        sa_event.listen(database.engine.sync_engine, "before_cursor_execute", seen)
        async with database.session() as session:
            for purpose in ("a", "b", "c"):
                await stage(
                    session, granted(purpose), tenant_id="acme", subject="ref-1", clock=CLOCK, service="consent"
                )
            await stage_many(session, [(granted("d"), "ref-1")], tenant_id="acme", clock=CLOCK, service="consent")
        async with database.session() as session:  # the next transaction notifies again
            await stage(session, granted("e"), tenant_id="acme", subject="ref-1", clock=CLOCK, service="consent")
        assert sum("pg_notify" in s for s in statements) == 2
        async with database.session() as session:
            assert len((await session.exec(select(OutboxMessage))).all()) == 5


def test_bulk_rows_carry_what_a_single_stage_would() -> None:
    event = granted("newsletter", subject="ref-ü")
    token = correlation_id_var.set("corr-1")
    try:
        [row] = outbox_rows([(event, "ref-ü")], tenant_id="acme", source="/privops/consent", now=CLOCK.now())
        reference = build_envelope(event, source="/privops/consent", tenant_id="acme", subject="ref-ü", now=CLOCK.now())
    finally:
        correlation_id_var.reset(token)
    values = dict(zip(OUTBOX_COLUMNS, row, strict=True))
    headers = json.loads(values["headers"])
    expected = {k: v.decode() for k, v in reference.to_kafka_headers()}
    assert headers.keys() == expected.keys()
    assert {k: v for k, v in headers.items() if k not in ("ce_id", "ce_traceparent")} == {
        k: v for k, v in expected.items() if k not in ("ce_id", "ce_traceparent")
    }
    assert headers["ce_id"] == str(values["event_id"])
    assert values["payload"] == reference.data_bytes()
    assert (values["topic"], values["key"], values["event_type"]) == (event.topic, "acme:ref-ü", event.event_type)
    decoded = CloudEvent.from_kafka([(k, v.encode()) for k, v in headers.items()], values["payload"])
    assert decoded.data == reference.data and decoded.correlationid == "corr-1"


async def _true(value: bool) -> bool:
    return value


def test_a_packed_row_gives_back_the_events_unpacked_rows_would_carry() -> None:
    from shared.events.catalogue.dsar import DsarRequestCompleted

    completed = DsarRequestCompleted(
        request_id=uuid.uuid4(), request_type="erasure", subject_ref="ref-9", completed_at=CLOCK.now()
    )
    pairs = [(granted(f"p{i}", f"ref-{i % 7}"), f"ref-{i % 7}") for i in range(PACK_SIZE + 50)]
    pairs.insert(30, (completed, "ref-9"))  # another topic: the pack closes and a new one starts
    pairs[5] = (pairs[5][0], None)  # no subject: keyed by the tenant, no ce_subject
    token = correlation_id_var.set("corr-2")
    try:
        rows = outbox_rows(pairs, tenant_id="acme", source="/privops/consent", now=CLOCK.now())
        packed = outbox_rows(pairs, tenant_id="acme", source="/privops/consent", now=CLOCK.now(), packed=True)
    finally:
        correlation_id_var.reset(token)
    columns = [dict(zip(OUTBOX_COLUMNS, row, strict=True)) for row in packed]
    # 30 grants | the DSAR event | PACK_SIZE grants | the last 20 grants
    assert [(c["topic"], json.loads(c["headers"])[PACK_COUNT_HEADER]) for c in columns] == [
        (CONSENT_EVENTS, "30"),
        (completed.topic, "1"),
        (CONSENT_EVENTS, str(PACK_SIZE)),
        (CONSENT_EVENTS, "20"),
    ]
    assert {c["event_type"] for c in columns} == {PACKED_EVENT_TYPE}

    @dataclasses.dataclass
    class Row:
        event_id: uuid.UUID
        tenant_id: str
        topic: str
        key: str
        event_type: str
        headers: dict[str, str]
        payload: bytes

    def as_row(values: dict[str, Any]) -> Row:
        return Row(**(values | {"headers": json.loads(values["headers"])}))  # as the relay reads it

    plain = [event for row in rows for event in unpack(as_row(dict(zip(OUTBOX_COLUMNS, row, strict=True))))]
    from_packs = [event for values in columns for event in unpack(as_row(values))]
    random_parts = ("ce_id", "ce_traceparent")
    assert len(from_packs) == len(plain) == len(pairs)
    for one, other in zip(plain, from_packs, strict=True):
        assert (one.topic, one.key, one.payload) == (other.topic, other.key, other.payload)
        assert {k: v for k, v in one.headers.items() if k not in random_parts} == {
            k: v for k, v in other.headers.items() if k not in random_parts
        }
        assert other.headers["ce_id"] == other.event_id and other.headers["ce_correlationid"] == "corr-2"
    assert len({e.event_id for e in from_packs}) == len(pairs)
    assert from_packs[5].key == "acme" and "ce_subject" not in from_packs[5].headers
    # LZ4-compressed, far smaller than what it holds: a line of what the events share and set them apart,
    # then the payloads as they are, one per line.
    biggest = columns[2]
    assert json.loads(biggest["headers"]) == {PACK_COUNT_HEADER: str(PACK_SIZE)}
    body = lz4.frame.decompress(biggest["payload"])
    meta, *payloads = body.split(b"\n")
    assert len(biggest["payload"]) * 2 < len(body) and json.loads(meta)["headers"]["ce_tenantid"] == "acme"
    events = unpack(as_row(biggest))
    assert payloads == [event.payload for event in events] and len(events) == PACK_SIZE


async def test_packed_rows_are_published_event_by_event_in_order(infra: Infra, topic_prefix: str) -> None:
    async with outbox_env(infra, topic_prefix) as (database, settings, producer):
        bulk = [(f"p{i:04d}", f"ref-{'ab'[i % 2]}") for i in range(1, 1201)]
        assert await stage_around(database, ("first", "ref-a"), bulk, ("last", "ref-a"), packed=True) == 1200
        async with database.session() as session:
            assert len((await session.exec(select(OutboxMessage))).all()) == 5  # 1 + 3 packs + 1
            assert len(await staged_events(session, unpublished=True)) == 1202
        relay = OutboxRelay(database, producer, settings)
        relay.batch_size = 600
        assert (await relay.refresh_metrics())[0] == 1202  # the backlog counts events, not rows
        # Up to 600 events a batch, whole rows only: the single row and the first pack (501), then the rest.
        assert [await relay.publish_batch() for _ in range(4)] == [501, 500, 201, 0]
        assert (await relay.refresh_metrics())[0] == 0
        records = await read_topic(infra.broker.bootstrap, settings.topic(CONSENT_EVENTS), expect=1202)
        envelopes = [CloudEvent.from_kafka(r.headers, r.value) for r in records]
        assert len({e.id for e in envelopes}) == 1202
        for ref in ("ref-a", "ref-b"):
            mine = [
                e.data["purpose"] for e, r in zip(envelopes, records, strict=True) if r.key == f"acme:{ref}".encode()
            ]
            expected = [f"p{i:04d}" for i in range(1, 1201) if "ab"[i % 2] == ref[-1]]
            assert mine == (["first", *expected, "last"] if ref == "ref-a" else expected)  # per subject, in order
        assert all(e.subject == e.data["subject_ref"] and e.tenantid == "acme" for e in envelopes)


class FailingProducer:
    """A real producer whose ``fail_at``-th record batch is refused, as a broker error would refuse it."""

    def __init__(self, real: AIOKafkaProducer, fail_at: int) -> None:
        self.real, self.fail_at, self.batches = real, fail_at, 0

    def create_batch(self) -> Any:
        return self.real.create_batch()

    async def partitions_for(self, topic: str) -> Any:
        return await self.real.partitions_for(topic)

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> Any:
        self.batches += 1
        if self.batches == self.fail_at:
            refused = asyncio.get_running_loop().create_future()
            refused.set_exception(KafkaError("injected: not enough replicas"))
            return refused
        return await self.real.send_batch(batch, topic, partition=partition)


async def test_a_packed_row_is_marked_only_when_every_event_it_carries_was_acknowledged(
    infra: Infra, topic_prefix: str
) -> None:
    async with outbox_env(infra, topic_prefix) as (database, settings, producer):
        bulk = [(f"p{i:03d}", "ref-a") for i in range(600)]  # packs of 500 and 100
        assert await stage_around(database, ("first", "ref-a"), bulk, ("last", "ref-a"), packed=True) == 600
        # One subject, one partition; the client's 16 KB record batches hold a few dozen events each,
        # so the 5th batch falls inside the first pack.
        failing = OutboxRelay(database, cast(Any, FailingProducer(producer, fail_at=5)), settings)
        with pytest.raises(RuntimeError, match="injected"):
            await failing.publish_batch()
        async with database.session() as session:
            rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
        assert [r.published_at is not None for r in rows] == [True, False, False, False]
        assert rows[1].attempts == 1 and "injected" in (rows[1].last_error or "")

        relay = OutboxRelay(database, producer, settings)
        while await relay.publish_batch():
            pass
        async with database.session() as session:
            assert await staged_events(session, unpublished=True) == []
        records = await read_topic(infra.broker.bootstrap, settings.topic(CONSENT_EVENTS), expect=1203, timeout=4)
        purposes = [CloudEvent.from_kafka(r.headers, r.value).data["purpose"] for r in records]
        expected = ["first", *(f"p{i:03d}" for i in range(600)), "last"]
        assert set(purposes) == set(expected)  # nothing lost
        assert purposes[-601:] == expected[1:]  # the failed pack and everything after it, sent again in order
