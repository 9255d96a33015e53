"""The SDK worker: a task is carried out once whatever the redeliveries; failures retried; sweeps answered."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiokafka import AIOKafkaProducer

from examples.analytics.store import REGISTRATION, AnalyticsStore
from sdk import Identifiers, Outcome, PrivopsClient, PrivopsError, Store, SystemRegistration, TokenSigner, subject_ref
from shared.bus.outbox import build_envelope
from shared.events.catalogue import Event
from shared.events.catalogue.dsar import DsarTaskRequested
from shared.events.catalogue.retention import RetentionSubjectSweepRequested, RetentionSweepRequested
from shared.events.topics import DSAR_TASK_RESULTS, DSAR_TASKS, RETENTION_SWEEP_RESULTS, RETENTION_SWEEPS
from tests.integration.dsar.support import TENANT, Dsar, request_body, serve_dsar
from tests.integration.sdk.support import run_workers, tasks_of, until_state, verify_by_code, worker_config
from tests.support.stack import JWT_SECRET, SUBJECT_KEY, Infra, read_topic

pytestmark = pytest.mark.integration
COUNTER = SystemRegistration(name="Counter", owner="tests")


class CountingStore(Store):
    """Erases nothing, counts calls, and fails the first ``failures`` calls."""

    def __init__(self, failures: int = 0) -> None:
        self.calls: list[str] = []
        self.failures = failures

    async def erase(self, identifiers: Identifiers) -> Outcome:
        self.calls.append(identifiers.email or "")
        if len(self.calls) <= self.failures:
            raise RuntimeError("disk full")
        return Outcome.done(1)

    async def export(self, identifiers: Identifiers) -> list[dict[str, Any]]:
        return []


async def produce(infra: Infra, topic: str, event: Event, subject: str) -> None:
    envelope = build_envelope(event, source="/privops/test", tenant_id=TENANT, subject=subject, now=datetime.now(UTC))
    producer = AIOKafkaProducer(bootstrap_servers=infra.broker.bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, envelope.data_bytes(), key=b"k", headers=envelope.to_kafka_headers())
    finally:
        await producer.stop()


async def first_task(infra: Infra, dsar: Dsar) -> DsarTaskRequested:
    records = await read_topic(infra.broker.bootstrap, dsar.settings.topic(DSAR_TASKS), expect=1)
    return DsarTaskRequested.model_validate(json.loads(records[0].value))


async def test_a_redelivered_task_is_answered_again_but_carried_out_once_even_after_a_restart(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        store = CountingStore()
        config = worker_config(infra, dsar, "counter", tmp_path)
        async with run_workers([(store, config, COUNTER)]):
            created = await dsar.open(request_body("erasure"))
            await verify_by_code(dsar, created["id"])
            await until_state(dsar, created["id"])
            task = await first_task(infra, dsar)
            redelivered = task.model_copy(update={"attempt": 2})
            await produce(infra, dsar.settings.topic(DSAR_TASKS), redelivered, task.subject_ref)
            results = await read_topic(infra.broker.bootstrap, dsar.settings.topic(DSAR_TASK_RESULTS), expect=2)
            assert len(results) == 2
        async with run_workers([(store, config, COUNTER)]):  # a restart keeps the ledger file
            await produce(infra, dsar.settings.topic(DSAR_TASKS), redelivered, task.subject_ref)
            results = await read_topic(infra.broker.bootstrap, dsar.settings.topic(DSAR_TASK_RESULTS), expect=3)
        assert store.calls == ["ada@example.com"]
        assert (await tasks_of(dsar, created["id"]))["counter"]["outcome"] == "done"


async def test_a_failing_store_reports_failure_and_the_republished_task_succeeds(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        store = CountingStore(failures=2)  # the worker tries twice, then reports a retryable failure
        config = worker_config(infra, dsar, "counter", tmp_path, max_attempts=2)
        async with run_workers([(store, config, COUNTER)]):
            created = await dsar.open(request_body("erasure"))
            await verify_by_code(dsar, created["id"])
            done = await until_state(dsar, created["id"])
        task = (await tasks_of(dsar, created["id"]))["counter"]
        assert (task["attempt"], task["outcome"], done["outcome"]) == (2, "done", "complete")
        assert task["error"].startswith("RuntimeError: disk full")
        assert len(store.calls) == 3


async def test_retention_sweeps_are_answered_once_with_counts(infra: Infra, topic_prefix: str, tmp_path: Path) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        analytics = AnalyticsStore(tmp_path / "analytics.sqlite3")
        analytics.seed(now=datetime.now(UTC))
        before = len(await analytics.query("SELECT id FROM events"))
        sweep = RetentionSweepRequested(
            sweep_id=uuid.uuid4(),
            system="analytics",
            category="cookie",
            action="delete",
            cutoff=datetime.now(UTC) - timedelta(days=395),
            policy_id=uuid.uuid4(),
            policy_version=1,
        )
        config = worker_config(infra, dsar, "analytics", tmp_path)
        async with run_workers([(analytics, config, REGISTRATION)]):
            for _ in range(2):
                await produce(infra, dsar.settings.topic(RETENTION_SWEEPS), sweep, str(sweep.sweep_id))
            answers = await read_topic(infra.broker.bootstrap, dsar.settings.topic(RETENTION_SWEEP_RESULTS), expect=2)
        assert len(answers) == 1
        answer = json.loads(answers[0].value)
        assert dict(answers[0].headers)["ce_type"] == b"io.privops.retention.sweep.completed"
        assert answer["deleted"] == 4  # the oldest event of each of the four people
        assert len(await analytics.query("SELECT id FROM events")) == before - 4
        analytics.close()


async def test_a_subject_sweep_is_carried_out_once_and_its_answer_sent_again_when_republished(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    key = SUBJECT_KEY.encode()
    async with serve_dsar(infra, topic_prefix) as dsar:
        analytics = AnalyticsStore(tmp_path / "analytics.sqlite3", subject_key=key)
        analytics.seed(now=datetime.now(UTC))
        grace = len(await analytics.query("SELECT id FROM events WHERE user_id = 'u-1002'"))
        first = RetentionSubjectSweepRequested(
            sweep_id=uuid.uuid4(),
            system="analytics",
            category="consent_based",
            purpose="analytics",
            action="delete",
            subject_refs=[subject_ref(key, TENANT, "email", "ada@example.com")],
        )
        config = dataclasses.replace(worker_config(infra, dsar, "analytics", tmp_path), subject_key=key)
        topic = dsar.settings.topic(RETENTION_SWEEPS)
        async with run_workers([(analytics, config, REGISTRATION)]):
            await produce(infra, topic, first, str(first.sweep_id))
            await produce(infra, topic, first.model_copy(update={"attempt": 2}), str(first.sweep_id))
            answers = await read_topic(infra.broker.bootstrap, dsar.settings.topic(RETENTION_SWEEP_RESULTS), expect=2)
        # Answered twice (retention asked again), carried out once: the same counts both times.
        assert [json.loads(a.value)["deleted"] for a in answers] == [9, 9]
        assert await analytics.query("SELECT id FROM events WHERE user_id = 'u-1001'") == []
        assert len(await analytics.query("SELECT id FROM events WHERE user_id = 'u-1002'")) == grace
        analytics.close()


async def test_the_client_opens_and_follows_requests(infra: Infra, topic_prefix: str) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        tokens = TokenSigner(JWT_SECRET, subject="backend")
        async with PrivopsClient(tenant=TENANT, tokens=tokens, dsar_url=dsar.url) as client:
            ids = {"email": "grace@example.com"}
            first = await client.open_request("access", "us-ca-ccpa", ids, idempotency_key="k-1")
            again = await client.open_request("access", "us-ca-ccpa", ids, idempotency_key="k-1")
            assert first["id"] == again["id"]
            assert first["deadline"]["acknowledge_by"] is not None  # CCPA: 10 business days to acknowledge
            # A letter received on Friday 27 February 2026 and entered on Monday 2 March: 45 days from receipt.
            letter = datetime(2026, 2, 27, 15, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
            posted = await client.open_request("access", "us-ca-ccpa", ids, channel="post", received_at=letter)
            assert posted["deadline"]["due_at"].startswith("2026-04-13T23:59:59")  # 27 Feb + 45 days = Mon 13 April
            assert posted["entered_by"] == "backend"
            with pytest.raises(PrivopsError) as error:
                await client.open_request("access", "atlantis", ids)
            assert error.value.status == 422
            assert "unknown regime" in error.value.problem["detail"]
            verified = await client.verify_manually(first["id"], "DL-123")
            assert verified["state"] == "completed"  # no system registered
            assert (await client.get_request(first["id"]))["verification"]["evidence_ref"] == "DL-123"
