"""Consumers with an inbox: redelivery changes state once; poison goes to the dead-letter topic."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from sqlmodel import col, func, select

from services.retention.models import SubjectSchedule
from shared.bus.consumer import DeadLetter
from shared.bus.outbox import build_envelope
from shared.events.catalogue.consent import ConsentDenied, ConsentWithdrawn
from shared.events.envelope import CloudEvent
from shared.events.topics import CONSENT_EVENTS, dead_letter_topic
from shared.runtime.metrics import EVENTS_CONSUMED
from tests.support.stack import Infra, RunningService, eventually, read_topic, run_service

pytestmark = pytest.mark.integration
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def withdrawn_envelope(subject: str = "ref-42", tenant: str = "acme") -> CloudEvent:
    event = ConsentWithdrawn(
        consent_id=uuid.uuid4(), subject_ref=subject, purpose="newsletter", decision="withdrawn", occurred_at=NOW
    )
    return build_envelope(event, source="/privops/consent", tenant_id=tenant, subject=subject, now=NOW)


async def produce(infra: Infra, topic: str, *records: tuple[bytes | None, list[tuple[str, bytes]]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=infra.broker.bootstrap, acks="all", max_request_size=4 * 1024 * 1024)
    await producer.start()
    try:
        for value, headers in records:
            await producer.send_and_wait(topic, value=value, key=b"acme:ref-42", headers=headers)
    finally:
        await producer.stop()


async def schedules(svc: RunningService) -> int:
    async with svc.runtime.database.session() as session:
        return int((await session.exec(select(func.count()).select_from(SubjectSchedule))).one())


async def test_same_event_delivered_twice_changes_state_once(infra: Infra, topic_prefix: str) -> None:
    settings = infra.settings("retention", infra.fresh_database("retention"), topic_prefix)
    async with run_service("retention", settings) as svc:
        await svc.wait_consumers_ready()
        envelope = withdrawn_envelope()
        record = (envelope.data_bytes(), envelope.to_kafka_headers())
        await produce(infra, settings.topic(CONSENT_EVENTS), record, record)
        await eventually(lambda: _at_least(svc, 1))
        marker = withdrawn_envelope(subject="ref-marker")
        await produce(infra, settings.topic(CONSENT_EVENTS), (marker.data_bytes(), marker.to_kafka_headers()))
        await eventually(lambda: _at_least(svc, 2))
        async with svc.runtime.database.session() as session:
            rows = (
                await session.exec(select(SubjectSchedule).where(col(SubjectSchedule.subject_ref) == "ref-42"))
            ).all()
        assert len(rows) == 1
        assert rows[0].due_at == datetime(2026, 4, 1, 9, 0, tzinfo=UTC)  # 30-day grace period


async def test_poison_event_is_dead_lettered_and_the_consumer_moves_on(infra: Infra, topic_prefix: str) -> None:
    settings = infra.settings("retention", infra.fresh_database("retention"), topic_prefix)
    async with run_service("retention", settings) as svc:
        await svc.wait_consumers_ready()
        good = withdrawn_envelope()
        bad_schema = withdrawn_envelope()
        bad_headers = [(k, v) for k, v in bad_schema.to_kafka_headers()]
        poison = [
            (b"{not json", good.to_kafka_headers()),
            (b'{"hello": 1}', [("content-type", b"application/json")]),
            (b'{"subject_ref": 5}', bad_headers),
            (good.data_bytes(), [(k, b"io.privops.nope" if k == "ce_type" else v) for k, v in good.to_kafka_headers()]),
            (b'{"pad": "' + b"x" * 1_500_000 + b'"}', good.to_kafka_headers()),
        ]
        # A type the group takes no interest in is skipped from its ce_type header, unparsed: not dead-lettered.
        denied = [(k, ConsentDenied.event_type.encode() if k == "ce_type" else v) for k, v in good.to_kafka_headers()]
        group = svc.runtime.consumers[0].group
        ignored = EVENTS_CONSUMED.labels("retention", group, ConsentDenied.event_type, "ignored")
        before = ignored._value.get()
        await produce(
            infra,
            settings.topic(CONSENT_EVENTS),
            *poison,
            (b"{not json either", denied),
            (good.data_bytes(), good.to_kafka_headers()),
        )
        await eventually(lambda: _at_least(svc, 1))
        assert ignored._value.get() == before + 1
        dead = await read_topic(infra.broker.bootstrap, dead_letter_topic(group), expect=5)
        reasons = sorted(dict(r.headers)["dlq_reason"].decode() for r in dead)
        assert reasons == ["invalid_data", "malformed", "malformed", "too_large", "unknown_type"]
        assert all(dict(r.headers)["dlq_error"] for r in dead)
        async with svc.runtime.database.session() as session:
            stored = (await session.exec(select(DeadLetter))).all()
        assert sorted(d.reason for d in stored) == reasons
        assert {d.offset for d in stored} == {0, 1, 2, 3, 4}


async def _at_least(svc: RunningService, count: int) -> bool:
    return await schedules(svc) >= count


async def test_tasks_for_another_system_are_skipped_without_a_transaction(infra: Infra, topic_prefix: str) -> None:
    from shared.bus.consumer import InboxEntry
    from shared.events.catalogue.dsar import DsarTaskRequested
    from shared.events.topics import DSAR_TASKS

    settings = infra.settings("retention", infra.fresh_database("retention"), topic_prefix)
    async with run_service("retention", settings) as svc:
        await svc.wait_consumers_ready()
        envelopes = [
            build_envelope(
                DsarTaskRequested(
                    task_id=uuid.uuid4(),
                    request_id=uuid.uuid4(),
                    action="erase",
                    system=system,
                    subject_ref="ref-42",
                    claim_url="http://127.0.0.1:9/v1/tasks/x/claim",
                    due_at=NOW,
                ),
                source="/privops/dsar",
                tenant_id="acme",
                subject="ref-42",
                now=NOW,
            )
            for system in ("crm", "analytics", "privops-retention")
        ]
        await produce(infra, settings.topic(DSAR_TASKS), *[(e.data_bytes(), e.to_kafka_headers()) for e in envelopes])

        async def applied() -> list[str]:
            async with svc.runtime.database.session() as session:
                rows = (
                    await session.exec(select(InboxEntry).where(col(InboxEntry.consumer_group).contains("dsar")))
                ).all()
            return [row.event_id for row in rows]

        assert await eventually(applied) == [envelopes[2].id]  # only the task addressed to this service


async def test_a_batched_poll_is_one_transaction_and_a_failure_falls_back_to_one_event_each(
    infra: Infra, topic_prefix: str
) -> None:
    from aiokafka import ConsumerRecord

    from shared.bus.consumer import ConsumerRunner, InboxEntry, Subscription

    settings = infra.settings("retention", infra.fresh_database("retention"), topic_prefix)
    async with run_service("retention", settings) as svc:
        calls: list[str] = []

        async def handler(_session: object, event: ConsentWithdrawn, _ctx: object) -> None:
            calls.append(event.subject_ref)
            if event.subject_ref == "bad":
                raise ValueError("this event cannot be applied")

        runner = ConsumerRunner(
            Subscription(name="batch-test", handlers={ConsentWithdrawn: handler}, batched=True),
            database=svc.runtime.database,
            producer=svc.runtime.producer,
            settings=settings,
            clock=svc.clock,
        )

        def record(offset: int, envelope: CloudEvent) -> ConsumerRecord[bytes, bytes]:
            value = envelope.data_bytes()
            headers = envelope.to_kafka_headers()
            return ConsumerRecord(CONSENT_EVENTS, 0, offset, 0, 0, b"k", value, None, 1, len(value), headers)

        async def inbox() -> set[str]:
            async with svc.runtime.database.session() as session:
                rows = await session.exec(select(InboxEntry.event_id).where(InboxEntry.consumer_group == runner.group))
                return set(rows.all())

        first, second, third = (withdrawn_envelope(subject=s) for s in ("a", "b", "c"))
        assert await runner.process_many([record(0, first), record(1, second), record(2, first)]) == [
            "applied",
            "applied",
            "duplicate",  # the same event twice in one poll: applied once
        ]
        assert calls == ["a", "b"]  # one transaction, each handler once
        assert await inbox() == {first.id, second.id}

        calls.clear()
        bad = withdrawn_envelope(subject="bad")
        outcomes = await runner.process_many([record(3, third), record(4, bad), record(5, second)])
        assert outcomes == ["applied", "dead_lettered", "duplicate"]
        assert calls[:2] == ["c", "bad"]  # the poll's transaction, rolled back at the failure…
        assert calls[2:] == ["c", "bad"]  # …then one transaction per event (a rejected event: no retry)
        assert await inbox() == {first.id, second.id, third.id}
        async with svc.runtime.database.session() as session:
            stored = (await session.exec(select(DeadLetter).where(DeadLetter.consumer_group == runner.group))).all()
        assert [(d.event_id, d.reason) for d in stored] == [(bad.id, "handler_rejected")]


async def test_bulk_handlers_take_a_polls_events_key_by_key_in_order(infra: Infra, topic_prefix: str) -> None:
    from aiokafka import ConsumerRecord

    from shared.bus.consumer import ConsumerRunner, Subscription
    from shared.events.catalogue.consent import ConsentGranted

    settings = infra.settings("retention", infra.fresh_database("retention"), topic_prefix)
    async with run_service("retention", settings) as svc:
        calls: list[tuple[str, ...]] = []

        async def one(_session: object, event: ConsentWithdrawn | ConsentGranted, _ctx: object) -> None:
            calls.append(("one", event.subject_ref))
            if event.subject_ref == "bad":
                raise ValueError("this event cannot be applied")

        async def many(_session: object, events: list[tuple[ConsentGranted, object]]) -> None:
            calls.append(("many", *(event.subject_ref for event, _ in events)))
            if any(event.subject_ref == "bad" for event, _ in events):
                raise ValueError("this run cannot be applied")

        runner = ConsumerRunner(
            Subscription(
                name="bulk-test",
                handlers={ConsentWithdrawn: one, ConsentGranted: one},
                batched=True,
                bulk_handlers={ConsentGranted: many},
            ),
            database=svc.runtime.database,
            producer=svc.runtime.producer,
            settings=settings,
            clock=svc.clock,
        )

        def granted(subject: str) -> CloudEvent:
            event = ConsentGranted(
                consent_id=uuid.uuid4(), subject_ref=subject, purpose="newsletter", decision="granted", occurred_at=NOW
            )
            return build_envelope(event, source="/privops/consent", tenant_id="acme", subject=subject, now=NOW)

        def record(offset: int, envelope: CloudEvent) -> ConsumerRecord[bytes, bytes]:
            value = envelope.data_bytes()
            headers = envelope.to_kafka_headers()
            key = f"acme:{envelope.subject}".encode()  # as the relay keys them: one subject's events in order
            return ConsumerRecord(CONSENT_EVENTS, 0, offset, 0, 0, key, value, None, 1, len(value), headers)

        b = granted("b")
        poll = [withdrawn_envelope("a"), b, granted("c"), b, withdrawn_envelope("d"), granted("e"), granted("a")]
        outcomes = await runner.process_many([record(i, e) for i, e in enumerate(poll)])
        assert outcomes == ["applied", "applied", "applied", "duplicate", "applied", "applied", "applied"]
        # The first event of each subject, the grants among them in one call (the duplicate left out);
        # then a's second event, after its first.
        assert calls == [("one", "a"), ("one", "d"), ("many", "b", "c", "e"), ("many", "a")]

        calls.clear()
        outcomes = await runner.process_many([record(10 + i, e) for i, e in enumerate([granted("f"), granted("bad")])])
        assert outcomes == ["applied", "dead_lettered"]
        # The run failed: the poll is rolled back, then each event is applied by its own handler.
        assert calls == [("many", "f", "bad"), ("one", "f"), ("one", "bad")]

        # A type applied in bulk needs no handler of its own: alone, an event is a run of one.
        calls.clear()
        bulk_only = Subscription(
            name="x", handlers={ConsentWithdrawn: one}, batched=True, bulk_handlers={ConsentGranted: many}
        )
        assert set(bulk_only.handlers) == {ConsentWithdrawn, ConsentGranted}
        alone = ConsentGranted(
            consent_id=uuid.uuid4(), subject_ref="g", purpose="newsletter", decision="granted", occurred_at=NOW
        )
        await bulk_only.handlers[ConsentGranted](None, alone, None)  # type: ignore[arg-type]
        assert calls == [("many", "g")]
