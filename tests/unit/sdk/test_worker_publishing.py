"""The store worker's ledger: a failed publish is kept and retried; a loss moves the marker on only after re-sending."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka.errors import KafkaError

from sdk import Identifiers, Outcome, Store, TaskWorker, WorkerConfig
from sdk.ledger import Answer
from shared.events.catalogue.dsar import DsarTaskCompleted


class Nothing(Store):
    async def erase(self, identifiers: Identifiers) -> Outcome:
        return Outcome.done(0)


class FlakyProducer:
    """Fails the first ``failures`` sends."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[str] = []

    async def send_and_wait(self, topic: str, **_: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise KafkaError("UnknownError")
        self.sent.append(topic)


class RecordingGuard:
    def __init__(self) -> None:
        self.placed: list[datetime | None] = []

    async def place_marker(self, since: datetime | None) -> None:
        self.placed.append(since)


def worker(producer: FlakyProducer) -> TaskWorker:
    config = WorkerConfig(system="crm", bootstrap_servers="127.0.0.1:9", jwt_secret="x" * 32, retry_backoff_s=0.0)
    built = TaskWorker(Nothing(), config)
    built._producer = producer  # type: ignore[assignment]
    return built


def answer() -> Answer:
    event = DsarTaskCompleted(
        task_id=uuid.uuid4(), request_id=uuid.uuid4(), system="crm", outcome="done", completed_at=datetime.now(UTC)
    )
    data = event.model_dump(mode="json")
    return Answer("task", str(event.task_id), "acme", 1, event.event_type, event.topic, "ref", data, False)


async def test_a_failed_publish_stays_in_the_ledger_and_is_sent_on_the_next_try() -> None:
    producer = FlakyProducer(failures=1)
    store = worker(producer)
    given = answer()
    await store.ledger.record(given)
    assert await store._try_publish(given, 1) is False
    assert [a.item_id for a in await store.ledger.unpublished()] == [given.item_id]
    assert await store.publish_pending() == 1
    assert producer.sent == ["privops.dsar.task-results"]
    assert await store.ledger.unpublished() == []


async def test_after_a_loss_the_marker_keeps_the_old_since_until_the_answers_are_resent(monkeypatch: Any) -> None:
    producer = FlakyProducer(failures=1)
    store = worker(producer)
    guard = RecordingGuard()
    store.guard = guard  # type: ignore[assignment]
    old_since = datetime.now(UTC) - timedelta(minutes=1)
    store._since = old_since
    given = answer()
    await store.ledger.record(given)
    await store.ledger.mark_published(given.kind, given.item_id, 1)

    async def no_topics(*_: Any) -> list[str]:
        return []

    monkeypatch.setattr("sdk.worker.create_missing_topics", no_topics)
    await store._on_broker_lost()  # the answer was in the lost log: flagged before any marker is placed
    assert [a.item_id for a in await store.ledger.unpublished()] == [given.item_id]

    assert await store.publish_pending() == 0  # the broker refuses: the marker does not move on
    assert guard.placed == [] and store._since == old_since
    store._retry_at = 0.0
    assert await store.publish_pending() == 1
    assert len(guard.placed) == 1 and guard.placed[0] is not None and guard.placed[0] > old_since
    assert store._since == guard.placed[0]
    store.ledger.close()
