"""Helpers for the retention tests: the service with jobs run by hand, events in, a test data store."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from services.retention.settings import RetentionSettings
from shared.bus.outbox import build_envelope
from shared.events.catalogue import Event, decode
from shared.events.catalogue.retention import (
    RetentionSubjectSweepRequested,
    RetentionSweepCompleted,
    RetentionSweepRequested,
)
from shared.events.envelope import CloudEvent
from shared.events.topics import RETENTION_SWEEP_RESULTS, RETENTION_SWEEPS
from shared.rules.clock import ManualClock
from shared.runtime.settings import ServiceSettings
from tests.support.stack import Infra, RunningService, auth, read_topic, run_service

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TENANT = "acme"
ADMIN = auth(TENANT, "retention:admin")
READ = auth(TENANT, "retention:read")


def clock_of(svc: RunningService) -> ManualClock:
    """The service's manual clock."""
    assert isinstance(svc.clock, ManualClock)
    return svc.clock


def settings_of(svc: RunningService) -> RetentionSettings:
    """The service's retention settings."""
    assert isinstance(svc.settings, RetentionSettings)
    return svc.settings


@contextlib.asynccontextmanager
async def retention(infra: Infra, topic_prefix: str, **overrides: Any) -> AsyncIterator[RunningService]:
    """The retention service on a fresh database, its periodic jobs run only by the test."""
    settings = infra.settings(
        "retention", infra.fresh_database("retention"), topic_prefix, jobs_enabled=False, **overrides
    )
    async with run_service("retention", settings, ManualClock(START)) as svc:
        yield svc


async def produce(infra: Infra, settings: ServiceSettings, event: Event, *, tenant: str, subject: str) -> CloudEvent:
    """Publish ``event`` as another service (or a store) would."""
    envelope = build_envelope(event, source="/test", tenant_id=tenant, subject=subject, now=START)
    producer = AIOKafkaProducer(bootstrap_servers=infra.broker.bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            settings.topic(event.topic),
            value=envelope.data_bytes(),
            key=f"{tenant}:{subject}".encode(),
            headers=envelope.to_kafka_headers(),
        )
    finally:
        await producer.stop()
    return envelope


async def commands(infra: Infra, settings: ServiceSettings, expect: int, timeout: float = 10.0) -> list[Any]:
    """The sweep commands on the sweeps topic (read from the start, no consumer group)."""
    records = await read_topic(infra.broker.bootstrap, settings.topic(RETENTION_SWEEPS), expect=expect, timeout=timeout)
    return [decode(CloudEvent.from_kafka(list(r.headers), r.value)) for r in records]


@dataclass
class DemoStore:
    """A data store holding some records per category: it answers every sweep addressed to it with counts."""

    system: str
    records: int = 7
    held: int = 0
    received: list[Event] = field(default_factory=list)


@contextlib.asynccontextmanager
async def answering_store(infra: Infra, settings: ServiceSettings, store: DemoStore) -> AsyncIterator[DemoStore]:
    """Run ``store`` as a real consumer of the sweeps topic answering on the sweep-results topic."""
    consumer = AIOKafkaConsumer(
        settings.topic(RETENTION_SWEEPS),
        bootstrap_servers=infra.broker.bootstrap,
        group_id=f"test-store-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        session_timeout_ms=2000,
        heartbeat_interval_ms=600,
        request_timeout_ms=10_000,
    )
    producer = AIOKafkaProducer(bootstrap_servers=infra.broker.bootstrap, acks="all")
    await consumer.start()
    await producer.start()

    async def answer() -> None:
        async for record in consumer:
            envelope = CloudEvent.from_kafka(list(record.headers), record.value)
            command = decode(envelope)
            if not isinstance(command, RetentionSweepRequested | RetentionSubjectSweepRequested):
                continue
            if command.system != store.system:
                continue
            store.received.append(command)
            held = store.held if isinstance(command, RetentionSweepRequested) and command.held_subject_refs else 0
            done = len(command.subject_refs) if isinstance(command, RetentionSubjectSweepRequested) else store.records
            counts = {"deleted": done} if command.action == "delete" else {f"{command.action}d": done}
            result = RetentionSweepCompleted(
                sweep_id=command.sweep_id,
                system=command.system,
                category=command.category,
                skipped_held=held,
                completed_at=START,
                **counts,
            )
            reply = build_envelope(
                result, source=f"/stores/{store.system}", tenant_id=envelope.tenantid, subject=store.system, now=START
            )
            await producer.send_and_wait(
                settings.topic(RETENTION_SWEEP_RESULTS),
                value=reply.data_bytes(),
                key=f"{envelope.tenantid}:{store.system}".encode(),
                headers=reply.to_kafka_headers(),
            )

    task = asyncio.create_task(answer())
    try:
        yield store
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await consumer.stop()
        await producer.stop()
