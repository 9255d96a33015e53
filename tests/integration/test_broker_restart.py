"""A memory-only broker restart loses its whole log: the platform notices, replays and skips nothing.

These tests run their own Tansu broker (the session's is shared with other tests) and restart it
on the same port, exactly as a developer's broker restarts: every topic, message, group and
committed offset is gone, and clients reconnect to an empty broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import CommitFailedError, KafkaError
from sqlmodel import col, func, select

from deploy.local.infra import Broker, start_broker
from sdk import Identifiers, Outcome, Store, TaskWorker, WorkerConfig
from sdk.actions import TaskRunner
from services.retention.models import SubjectSchedule
from shared.bus.broker_epoch import HEARTBEAT_TOPIC
from shared.bus.outbox import OutboxMessage, build_envelope, stage
from shared.bus.relay import OutboxRelay
from shared.events.catalogue.consent import ConsentGranted, ConsentWithdrawn
from shared.events.catalogue.dsar import DsarTaskRequested
from shared.events.envelope import CloudEvent
from shared.events.topics import CONSENT_EVENTS, DSAR_TASK_RESULTS, DSAR_TASKS
from shared.rules.clock import ManualClock
from shared.runtime.db import Database
from tests.support.stack import JWT_SECRET, Infra, eventually, read_topic, run_service

pytestmark = pytest.mark.integration
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CLOCK = ManualClock(NOW)


class RestartableBroker:
    """A broker of our own that can be restarted on the same port (losing everything, like Tansu does)."""

    def __init__(self) -> None:
        self.broker: Broker = start_broker()

    @property
    def bootstrap(self) -> str:
        return self.broker.bootstrap

    def restart(self) -> None:
        port = self.broker.port
        self.broker.stop()
        self.broker = start_broker(port=port)


@pytest.fixture(scope="module")
def broker() -> Iterator[RestartableBroker]:
    own = RestartableBroker()
    try:
        yield own
    finally:
        own.broker.stop()


def granted(subject: str) -> ConsentGranted:
    return ConsentGranted(
        consent_id=uuid.uuid4(), subject_ref=subject, purpose="newsletter", decision="granted", occurred_at=NOW
    )


def withdrawn(subject: str) -> CloudEvent:
    event = ConsentWithdrawn(
        consent_id=uuid.uuid4(), subject_ref=subject, purpose="newsletter", decision="withdrawn", occurred_at=NOW
    )
    # One partition key for all: the consumer's position on that partition gets ahead of a fresh log.
    return build_envelope(event, source="/privops/consent", tenant_id="acme", subject="same-key", now=NOW)


async def produce(bootstrap: str, topic: str, envelopes: list[CloudEvent]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for envelope in envelopes:
            await producer.send_and_wait(
                topic, value=envelope.data_bytes(), key=b"acme:same-key", headers=envelope.to_kafka_headers()
            )
    finally:
        await producer.stop()


async def test_the_relay_detects_a_lost_log_and_publishes_everything_again(
    infra: Infra, broker: RestartableBroker, topic_prefix: str
) -> None:
    settings = infra.settings(
        "consent", infra.fresh_database("consent"), topic_prefix, kafka_bootstrap_servers=broker.bootstrap
    )
    database = Database(settings.database_url, pool_size=4)
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", request_timeout_ms=5000)
    await producer.start()
    relay = OutboxRelay(database, producer, settings, epoch_check_interval_s=0.3)
    task = asyncio.create_task(relay.run())
    topic = settings.topic(CONSENT_EVENTS)
    try:
        async with database.session() as session:
            for i in range(5):
                await stage(
                    session, granted(f"ref-{i}"), tenant_id="acme", subject=f"ref-{i}", clock=CLOCK, service="c"
                )
        assert len(await read_topic(broker.bootstrap, topic, expect=5, timeout=10)) == 5
        assert relay.replayed == 0  # a fresh broker and a fresh outbox: nothing to re-send

        broker.restart()

        await eventually(lambda: _replayed_at_least(relay, 5), timeout=30)
        records = await read_topic(broker.bootstrap, topic, expect=5, timeout=20)
        subjects = sorted(CloudEvent.from_kafka(r.headers, r.value).data["subject_ref"] for r in records)
        assert subjects == [f"ref-{i}" for i in range(5)]
        assert topic in await _listed_topics(broker.bootstrap)  # created again, not only produced into
        async with database.session() as session:
            unpublished = (
                await session.exec(select(func.count()).where(col(OutboxMessage.published_at).is_(None)))
            ).one()
        assert unpublished == 0
    finally:
        relay.stop()
        await asyncio.wait_for(task, timeout=15)
        await producer.stop()
        await database.dispose()


async def _replayed_at_least(relay: OutboxRelay, count: int) -> bool:
    return relay.replayed >= count


async def test_a_relay_elected_on_the_same_broker_adopts_its_predecessors_marker(
    infra: Infra, broker: RestartableBroker, topic_prefix: str
) -> None:
    settings = infra.settings(
        "consent", infra.fresh_database("consent"), topic_prefix, kafka_bootstrap_servers=broker.bootstrap
    )
    database = Database(settings.database_url, pool_size=4)
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    await producer.start()
    try:
        async with database.session() as session:
            await stage(session, granted("ref-a"), tenant_id="acme", subject="ref-a", clock=CLOCK, service="c")
        first = OutboxRelay(database, producer, settings)
        await first.secure_epoch()
        assert await first.publish_batch() == 1
        await first.epoch.close()
        # A new replica (or the restarted process) finds the marker: the broker kept everything.
        second = OutboxRelay(database, producer, settings)
        await second.secure_epoch()
        assert second.replayed == 0
        assert second.epoch.marker is not None and first.epoch.marker is not None
        assert second.epoch.marker.since == first.epoch.marker.since
        assert await second.verify_broker() is True
        await second.epoch.close()
    finally:
        await producer.stop()
        await database.dispose()


async def test_a_consumer_ahead_of_a_fresh_log_rewinds_instead_of_skipping(
    infra: Infra, broker: RestartableBroker, topic_prefix: str
) -> None:
    settings = infra.settings(
        "retention", infra.fresh_database("retention"), topic_prefix, kafka_bootstrap_servers=broker.bootstrap
    )
    topic = settings.topic(CONSENT_EVENTS)
    async with run_service("retention", settings) as svc:
        await svc.wait_consumers_ready()
        await produce(broker.bootstrap, topic, [withdrawn(f"before-{i}") for i in range(8)])
        await eventually(lambda: _schedules(svc, "before-", 8), timeout=20)

        broker.restart()
        # Two events on the new log: offsets 0 and 1, far behind the consumer's position (8).
        await produce(broker.bootstrap, topic, [withdrawn(f"after-{i}") for i in range(2)])

        await eventually(lambda: _schedules(svc, "after-", 2), timeout=40)
        runner = next(c for c in svc.runtime.consumers if CONSENT_EVENTS in c.subscription.topic_names())
        assert runner.guard.rewinds >= 1
        assert await _schedules(svc, "before-", 8)  # nothing applied twice


async def _schedules(svc: object, prefix: str, expect: int) -> bool:
    async with svc.runtime.database.session() as session:  # type: ignore[attr-defined]
        count = (
            await session.exec(select(func.count()).where(col(SubjectSchedule.subject_ref).startswith(prefix)))
        ).one()
    return int(count) == expect


async def test_events_lost_with_the_broker_reach_a_consumer_that_was_down(
    infra: Infra, broker: RestartableBroker, topic_prefix: str
) -> None:
    """The retention service is down; consent publishes withdrawals; the broker restarts; nothing is lost."""
    consent_settings = infra.settings(
        "consent", infra.fresh_database("consent"), topic_prefix, kafka_bootstrap_servers=broker.bootstrap
    )
    retention_settings = infra.settings(
        "retention", infra.fresh_database("retention"), topic_prefix, kafka_bootstrap_servers=broker.bootstrap
    )
    database = Database(consent_settings.database_url, pool_size=4)
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", request_timeout_ms=5000)
    await producer.start()
    relay = OutboxRelay(database, producer, consent_settings, epoch_check_interval_s=0.3)
    relay_task = asyncio.create_task(relay.run())
    try:
        async with database.session() as session:
            for i in range(4):
                event = ConsentWithdrawn(
                    consent_id=uuid.uuid4(),
                    subject_ref=f"lost-{i}",
                    purpose="newsletter",
                    decision="withdrawn",
                    occurred_at=NOW,
                )
                await stage(session, event, tenant_id="acme", subject=f"lost-{i}", clock=CLOCK, service="consent")
        topic = consent_settings.topic(CONSENT_EVENTS)
        assert len(await read_topic(broker.bootstrap, topic, expect=4, timeout=10)) == 4

        broker.restart()  # the four withdrawals were never consumed: only the outbox still has them

        async with run_service("retention", retention_settings) as svc:
            await eventually(lambda: _schedules(svc, "lost-", 4), timeout=40)
    finally:
        relay.stop()
        await asyncio.wait_for(relay_task, timeout=15)
        await producer.stop()
        await database.dispose()


class CountingStore(Store):
    """Counts erasures per subject reference: a second erasure would be a duplicate side effect."""

    def __init__(self) -> None:
        self.erased: list[str] = []

    async def erase(self, identifiers: Identifiers) -> Outcome:
        self.erased.append(identifiers.subject_ref)
        return Outcome.done(1)

    async def export(self, identifiers: Identifiers) -> list[dict[str, object]]:
        return []


async def test_a_store_worker_resends_its_answers_and_does_not_erase_twice(
    broker: RestartableBroker, topic_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = CountingStore()

    async def claim_without_http(self: TaskRunner, tenant: str, event: DsarTaskRequested) -> Identifiers:
        return Identifiers((), task_id=str(event.task_id), subject_ref=event.subject_ref)

    monkeypatch.setattr(TaskRunner, "claim", claim_without_http)
    config = WorkerConfig(
        system="counting",
        bootstrap_servers=broker.bootstrap,
        jwt_secret=JWT_SECRET,
        tenants=("acme",),
        topic_prefix=topic_prefix,
        ledger_path=str(tmp_path / "ledger.sqlite3"),
        session_timeout_ms=2000,
        broker_epoch=True,
    )
    worker = TaskWorker(store, config)
    task_event = DsarTaskRequested(
        task_id=uuid.uuid4(),
        request_id=uuid.uuid4(),
        system="counting",
        action="erase",
        subject_ref="subject-1",
        claim_url="http://127.0.0.1:9/claim",
        due_at=NOW,
    )
    envelope = build_envelope(task_event, source="/privops/dsar", tenant_id="acme", subject="subject-1", now=NOW)
    running = asyncio.create_task(worker.run())
    try:
        await eventually(lambda: _is_set(worker.ready), timeout=20)
        await produce(broker.bootstrap, config.topic(DSAR_TASKS), [envelope])
        results = await read_topic(broker.bootstrap, config.topic(DSAR_TASK_RESULTS), expect=1, timeout=15)
        assert len(results) == 1
        first_id = CloudEvent.from_kafka(results[0].headers, results[0].value).id

        broker.restart()
        # The answer was lost with the broker: the worker sends it again, with the same event id.
        await eventually(lambda: _resent(worker), timeout=30)
        results = await read_topic(broker.bootstrap, config.topic(DSAR_TASK_RESULTS), expect=1, timeout=15)
        assert [CloudEvent.from_kafka(r.headers, r.value).id for r in results] == [first_id]
        # The DSAR relay re-sends the task: it is answered from the ledger, not carried out again.
        await produce(broker.bootstrap, config.topic(DSAR_TASKS), [envelope])
        await asyncio.sleep(2)
        assert store.erased == ["subject-1"]
    finally:
        worker.stop()
        await asyncio.wait_for(running, timeout=20)


def counting_config(broker: RestartableBroker, topic_prefix: str, tmp_path: Path) -> WorkerConfig:
    return WorkerConfig(
        system="counting",
        bootstrap_servers=broker.bootstrap,
        jwt_secret=JWT_SECRET,
        tenants=("acme",),
        topic_prefix=topic_prefix,
        ledger_path=str(tmp_path / "ledger.sqlite3"),
        session_timeout_ms=2000,
        retry_backoff_s=0.1,
        broker_epoch=True,
    )


def erase_task(subject: str) -> CloudEvent:
    event = DsarTaskRequested(
        task_id=uuid.uuid4(),
        request_id=uuid.uuid4(),
        system="counting",
        action="erase",
        subject_ref=subject,
        claim_url="http://127.0.0.1:9/claim",
        due_at=NOW,
    )
    return build_envelope(event, source="/privops/dsar", tenant_id="acme", subject=subject, now=NOW)


def results_of(records: list[Any]) -> list[str]:
    return sorted(CloudEvent.from_kafka(r.headers, r.value).data["task_id"] for r in records)


async def test_a_failed_commit_after_a_loss_neither_stops_the_worker_nor_loses_answers(
    broker: RestartableBroker, topic_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The group rebalanced while the loss was handled: the commit fails, the worker carries on and re-sends."""
    monkeypatch.setattr(TaskRunner, "claim", _claim_without_http)
    config = counting_config(broker, topic_prefix, tmp_path)
    worker = TaskWorker(CountingStore(), config)
    commit = AIOKafkaConsumer.commit
    failed: list[int] = []

    async def commit_failing_after_a_loss(self: AIOKafkaConsumer, offsets: Any = None) -> None:
        if worker.guard is not None and worker.guard.losses and not failed:
            failed.append(1)
            raise CommitFailedError("the group rebalanced")
        await commit(self, offsets)

    monkeypatch.setattr(AIOKafkaConsumer, "commit", commit_failing_after_a_loss)
    first, second = erase_task("subject-a"), erase_task("subject-b")
    running = asyncio.create_task(worker.run())
    try:
        await eventually(lambda: _is_set(worker.ready), timeout=20)
        await produce(broker.bootstrap, config.topic(DSAR_TASKS), [first])
        await read_topic(broker.bootstrap, config.topic(DSAR_TASK_RESULTS), expect=1, timeout=15)

        broker.restart()
        await produce(broker.bootstrap, config.topic(DSAR_TASKS), [second])  # records to commit after the loss

        await eventually(lambda: _failed_commit(failed), timeout=30)
        records = await read_topic(broker.bootstrap, config.topic(DSAR_TASK_RESULTS), expect=2, timeout=20)
        assert results_of(records) == sorted([first.data["task_id"], second.data["task_id"]])
        assert not running.done()
        assert {config.topic(DSAR_TASKS), config.topic(DSAR_TASK_RESULTS)} <= await _listed_topics(broker.bootstrap)
    finally:
        worker.stop()
        await asyncio.wait_for(running, timeout=20)


async def test_answers_a_loss_took_reach_the_broker_even_if_the_worker_dies_before_resending(
    broker: RestartableBroker, topic_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The marker placed on the new broker must not make a restarted worker forget what the old one lost."""
    monkeypatch.setattr(TaskRunner, "claim", _claim_without_http)
    config = counting_config(broker, topic_prefix, tmp_path)
    worker = TaskWorker(CountingStore(), config)
    task = erase_task("subject-c")
    results = config.topic(DSAR_TASK_RESULTS)
    send = AIOKafkaProducer.send_and_wait

    async def results_fail_after_a_loss(self: AIOKafkaProducer, topic: str, *args: Any, **kwargs: Any) -> Any:
        if topic == results and worker.guard is not None and worker.guard.losses:
            raise KafkaError("the broker is away")
        return await send(self, topic, *args, **kwargs)

    running = asyncio.create_task(worker.run())
    try:
        await eventually(lambda: _is_set(worker.ready), timeout=20)
        await produce(broker.bootstrap, config.topic(DSAR_TASKS), [task])
        await read_topic(broker.bootstrap, results, expect=1, timeout=15)
        monkeypatch.setattr(AIOKafkaProducer, "send_and_wait", results_fail_after_a_loss)
        broker.restart()
        await eventually(lambda: _lost(worker), timeout=30)
        await asyncio.sleep(1)  # the new marker is placed
    finally:
        worker.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(running, timeout=20)
    monkeypatch.setattr(AIOKafkaProducer, "send_and_wait", send)

    restarted = TaskWorker(CountingStore(), config)  # the same ledger file
    running = asyncio.create_task(restarted.run())
    try:
        records = await read_topic(broker.bootstrap, results, expect=1, timeout=20)
        assert results_of(records) == [task.data["task_id"]]
    finally:
        restarted.stop()
        await asyncio.wait_for(running, timeout=20)


async def test_a_failed_publish_is_retried_and_the_answer_arrives_once(
    broker: RestartableBroker, topic_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TaskRunner, "claim", _claim_without_http)
    config = counting_config(broker, topic_prefix, tmp_path)
    store = CountingStore()
    worker = TaskWorker(store, config)
    results = config.topic(DSAR_TASK_RESULTS)
    send = AIOKafkaProducer.send_and_wait
    failures: list[str] = []

    async def first_result_fails(self: AIOKafkaProducer, topic: str, *args: Any, **kwargs: Any) -> Any:
        if topic == results and not failures:
            failures.append(topic)
            raise KafkaError("UnknownError")
        return await send(self, topic, *args, **kwargs)

    monkeypatch.setattr(AIOKafkaProducer, "send_and_wait", first_result_fails)
    task = erase_task("subject-d")
    running = asyncio.create_task(worker.run())
    try:
        await eventually(lambda: _is_set(worker.ready), timeout=20)
        await produce(broker.bootstrap, config.topic(DSAR_TASKS), [task])
        records = await read_topic(broker.bootstrap, results, expect=1, timeout=15)
        await asyncio.sleep(1.5)  # no second copy follows
        records = await read_topic(broker.bootstrap, results, expect=2, timeout=2)
        assert failures and results_of(records) == [task.data["task_id"]]
        assert store.erased == ["subject-d"] and not running.done()
    finally:
        worker.stop()
        await asyncio.wait_for(running, timeout=20)


async def _claim_without_http(self: TaskRunner, tenant: str, event: DsarTaskRequested) -> Identifiers:
    return Identifiers((), task_id=str(event.task_id), subject_ref=event.subject_ref)


async def _failed_commit(failed: list[int]) -> bool:
    return bool(failed)


async def _lost(worker: TaskWorker) -> bool:
    return worker.guard is not None and worker.guard.losses >= 1


async def test_without_broker_epoch_nothing_writes_or_reads_the_heartbeat_topic(
    infra: Infra, topic_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against a broker that keeps its log (``broker_epoch`` off), relays, consumers and stores run as usual."""
    consent = infra.settings("consent", infra.fresh_database("consent"), topic_prefix, broker_epoch=False)
    retention = infra.settings("retention", infra.fresh_database("retention"), topic_prefix, broker_epoch=False)
    store = CountingStore()

    async def claim_without_http(self: TaskRunner, tenant: str, event: DsarTaskRequested) -> Identifiers:
        return Identifiers((), task_id=str(event.task_id), subject_ref=event.subject_ref)

    monkeypatch.setattr(TaskRunner, "claim", claim_without_http)
    config = WorkerConfig(
        system="counting",
        bootstrap_servers=infra.broker.bootstrap,
        jwt_secret=JWT_SECRET,
        tenants=("acme",),
        topic_prefix=topic_prefix,
        session_timeout_ms=2000,
    )
    worker = TaskWorker(store, config)
    running = asyncio.create_task(worker.run())
    database = Database(consent.database_url, pool_size=4)
    producer = AIOKafkaProducer(bootstrap_servers=infra.broker.bootstrap, acks="all")
    await producer.start()
    relay = OutboxRelay(database, producer, consent)
    relaying = asyncio.create_task(relay.run())
    try:
        async with run_service("retention", retention) as svc:
            await svc.wait_consumers_ready()
            await eventually(lambda: _is_set(worker.ready), timeout=20)
            async with database.session() as session:
                for i in range(3):
                    event = ConsentWithdrawn(
                        consent_id=uuid.uuid4(),
                        subject_ref=f"kept-{i}",
                        purpose="newsletter",
                        decision="withdrawn",
                        occurred_at=NOW,
                    )
                    await stage(session, event, tenant_id="acme", subject=f"kept-{i}", clock=CLOCK, service="consent")
            task = DsarTaskRequested(
                task_id=uuid.uuid4(),
                request_id=uuid.uuid4(),
                system="counting",
                action="erase",
                subject_ref="subject-2",
                claim_url="http://127.0.0.1:9/claim",
                due_at=NOW,
            )
            envelope = build_envelope(task, source="/privops/dsar", tenant_id="acme", subject="subject-2", now=NOW)
            await produce(infra.broker.bootstrap, config.topic(DSAR_TASKS), [envelope])
            await eventually(lambda: _schedules(svc, "kept-", 3), timeout=20)
            assert len(await read_topic(infra.broker.bootstrap, config.topic(DSAR_TASK_RESULTS), expect=1)) == 1
            assert store.erased == ["subject-2"]
            assert relay.epoch is None and svc.runtime.relay.epoch is None
            assert all(runner.guard.epoch is None for runner in svc.runtime.consumers)
            assert worker.guard is not None and worker.guard.epoch is None
    finally:
        worker.stop()
        relay.stop()
        await asyncio.wait_for(asyncio.gather(running, relaying), timeout=20)
        await producer.stop()
        await database.dispose()
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.broker.bootstrap)
    await admin.start()
    try:
        topics = set(await admin.list_topics())
    finally:
        await admin.close()
    assert consent.topic(CONSENT_EVENTS) in topics
    assert consent.topic(HEARTBEAT_TOPIC) not in topics


async def _listed_topics(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def _resent(worker: TaskWorker) -> bool:
    return worker.resent >= 1


async def _is_set(event: asyncio.Event) -> bool:
    return event.is_set()
