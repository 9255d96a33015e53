"""Transactional outbox: events are staged in the same transaction as the state change.

A relay per service publishes staged events to Kafka in order (acks=all) and marks them sent
only after the broker acknowledged them. One replica at a time holds the relay (a PostgreSQL
advisory lock), so replicas can run side by side. Published rows are kept for a while so that
a broker that lost its log (a memory-only dev broker restart) can be re-fed.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
import zlib
from datetime import datetime, timedelta
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, String, Text, delete, func, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.clock import Clock
from shared.db import Database, UTCDateTime
from shared.events.catalogue import Event
from shared.events.envelope import CloudEvent
from shared.logging import correlation_id_var, new_traceparent, trace_id_of, traceparent_var
from shared.metrics import OUTBOX_BACKLOG, OUTBOX_ERRORS, OUTBOX_OLDEST_AGE, OUTBOX_PUBLISHED, RELAY_ACTIVE
from shared.settings import ServiceSettings

log = structlog.get_logger("privops.outbox")

NOTIFY_CHANNEL = "privops_outbox"


class OutboxMessage(SQLModel, table=True):
    """An event waiting to be (or already) published to Kafka."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_unpublished", "id", postgresql_where=text("published_at IS NULL")),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    event_id: uuid.UUID = Field(unique=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    topic: str = Field(sa_column=Column(String(255), nullable=False))
    key: str = Field(sa_column=Column(String(512), nullable=False))
    event_type: str = Field(sa_column=Column(String(255), nullable=False))
    headers: dict[str, str] = Field(sa_column=Column(JSONB, nullable=False))
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=False, server_default=func.now())
    )
    published_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


def partition_key(tenant_id: str, subject: str | None) -> str:
    """Tenant plus subject reference (or aggregate id): everything about one person stays in order."""
    return f"{tenant_id}:{subject}" if subject else tenant_id


def build_envelope(event: Event, *, source: str, tenant_id: str, subject: str | None, now: datetime) -> CloudEvent:
    """Wrap a catalogue event in a CloudEvent with the current trace and correlation context."""
    parent = traceparent_var.get()
    return CloudEvent(
        type=event.event_type,
        source=source,
        tenantid=tenant_id,
        subject=subject,
        time=now,
        data=event.model_dump(mode="json"),
        dataschema=event.dataschema(),
        traceparent=new_traceparent(trace_id_of(parent)),
        correlationid=correlation_id_var.get(),
    )


async def stage(
    session: AsyncSession,
    event: Event,
    *,
    tenant_id: str,
    subject: str | None,
    clock: Clock,
    service: str,
) -> CloudEvent:
    """Stage ``event`` for publication; it leaves only if the surrounding transaction commits."""
    envelope = build_envelope(
        event, source=f"/privops/{service}", tenant_id=tenant_id, subject=subject, now=clock.now()
    )
    session.add(
        OutboxMessage(
            event_id=uuid.UUID(envelope.id),
            tenant_id=tenant_id,
            topic=event.topic,
            key=partition_key(tenant_id, subject),
            event_type=event.event_type,
            headers={k: v.decode() for k, v in envelope.to_kafka_headers()},
            payload=envelope.data_bytes(),
        )
    )
    # Delivered at commit only, so the relay wakes for committed rows and never for rolled-back ones.
    await session.exec(select(func.pg_notify(NOTIFY_CHANNEL, "")))
    return envelope


def relay_lock_key(service: str) -> int:
    """The advisory-lock key that elects one relay per service database."""
    return zlib.crc32(f"privops.outbox.relay.{service}".encode())


class OutboxRelay:
    """Publishes staged events in id order; one active instance per service."""

    def __init__(
        self,
        database: Database,
        producer: AIOKafkaProducer,
        settings: ServiceSettings,
        *,
        standby_interval_s: float = 2.0,
    ) -> None:
        self.database = database
        self.producer = producer
        self.settings = settings
        self.service = settings.service_name
        self.batch_size = settings.relay_batch_size
        self.poll_interval_s = settings.relay_poll_interval_s
        self.standby_interval_s = standby_interval_s
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self.active = False

    def stop(self) -> None:
        """Ask the relay to finish its current batch and exit."""
        self._stopping.set()
        self._wake.set()

    def wake(self) -> None:
        """Publish now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Elect, then publish until stopped; on any error back off and try again."""
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                await self._run_elected()
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox.relay.error", error=str(exc), error_type=type(exc).__name__)
                await self._sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                self._set_active(False)

    async def _run_elected(self) -> None:
        async with self.database.engine.connect() as lock_conn:
            key = relay_lock_key(self.service)
            got = await lock_conn.scalar(sa_select(func.pg_try_advisory_lock(key)))
            await lock_conn.commit()
            if not got:
                await self._sleep(self.standby_interval_s)
                return
            self._set_active(True)
            raw = await lock_conn.get_raw_connection()
            driver: Any = raw.driver_connection

            def on_notify(*_: Any) -> None:
                self._wake.set()

            await driver.add_listener(NOTIFY_CHANNEL, on_notify)
            log.info("outbox.relay.elected", service=self.service)
            try:
                last_metrics = 0.0
                loop = asyncio.get_running_loop()
                while not self._stopping.is_set():
                    self._wake.clear()
                    published = await self.publish_batch()
                    if loop.time() - last_metrics > 5.0:
                        await self.refresh_metrics()
                        last_metrics = loop.time()
                    if published < self.batch_size:
                        await self._sleep(self.poll_interval_s)
            finally:
                await driver.remove_listener(NOTIFY_CHANNEL, on_notify)
                await lock_conn.execute(sa_select(func.pg_advisory_unlock(key)))
                await lock_conn.commit()

    async def publish_batch(self) -> int:
        """Publish the oldest unpublished events; mark the acknowledged prefix as published."""
        async with self.database.session() as session:
            messages = list(
                (
                    await session.exec(
                        select(OutboxMessage)
                        .where(col(OutboxMessage.published_at).is_(None))
                        .order_by(col(OutboxMessage.id))
                        .limit(self.batch_size)
                    )
                ).all()
            )
            if not messages:
                return 0
            futures = []
            for message in messages:
                headers = [(k, v.encode()) for k, v in message.headers.items()]
                futures.append(
                    await self.producer.send(
                        self.settings.topic(message.topic),
                        value=message.payload,
                        key=message.key.encode(),
                        headers=headers,
                    )
                )
            results = await asyncio.gather(*futures, return_exceptions=True)
            acked: list[int] = []
            failure: BaseException | None = None
            for message, result in zip(messages, results, strict=True):
                if isinstance(result, BaseException):
                    failure = result
                    break  # keep order: everything after a failure is sent again
                assert message.id is not None
                acked.append(message.id)
            now = func.now()
            if acked:
                await session.exec(
                    update(OutboxMessage).where(col(OutboxMessage.id).in_(acked)).values(published_at=now)
                )
                OUTBOX_PUBLISHED.labels(self.service).inc(len(acked))
            if failure is not None:
                OUTBOX_ERRORS.labels(self.service).inc()
                failed = messages[len(acked)]
                await session.exec(
                    update(OutboxMessage)
                    .where(col(OutboxMessage.id) == failed.id)
                    .values(attempts=OutboxMessage.attempts + 1, last_error=str(failure)[:2000])
                )
                log.warning("outbox.publish_failed", event_id=str(failed.event_id), error=str(failure))
        if failure is not None:
            raise RuntimeError(f"publishing outbox event failed: {failure}")
        return len(acked)

    async def refresh_metrics(self) -> tuple[int, float]:
        """Update the backlog gauges; return (backlog, age of the oldest unpublished event in seconds)."""
        async with self.database.session() as session:
            row = (
                await session.exec(
                    select(func.count(), func.min(OutboxMessage.created_at), func.now()).where(
                        col(OutboxMessage.published_at).is_(None)
                    )
                )
            ).one()
        backlog, oldest, now = int(row[0]), row[1], row[2]
        age = (now - oldest).total_seconds() if oldest is not None else 0.0
        OUTBOX_BACKLOG.labels(self.service).set(backlog)
        OUTBOX_OLDEST_AGE.labels(self.service).set(age)
        return backlog, age

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    def _set_active(self, active: bool) -> None:
        self.active = active
        RELAY_ACTIVE.labels(self.service).set(1 if active else 0)


async def replay_published_since(session: AsyncSession, since: datetime) -> int:
    """Mark events published since ``since`` as unpublished, so the relay sends them again.

    Used after a broker lost its log: consumers are idempotent, so re-sending is safe.
    """
    result = await session.exec(
        update(OutboxMessage).where(col(OutboxMessage.published_at) >= since).values(published_at=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def purge_published(session: AsyncSession, older_than: timedelta, now: datetime) -> int:
    """Delete published events older than ``older_than`` (the replay window)."""
    result = await session.exec(delete(OutboxMessage).where(col(OutboxMessage.published_at) < now - older_than))
    return int(getattr(result, "rowcount", 0) or 0)
