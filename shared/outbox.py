"""Transactional outbox: events are staged in the same transaction as the state change.

A relay per service publishes staged events to Kafka in order (acks=all) and marks them sent
only after the broker acknowledged them. One replica at a time holds the relay (a PostgreSQL
advisory lock), so replicas can run side by side. Published rows are kept for a while so that
a broker that lost its log (a memory-only dev broker restart) can be re-fed.

Broker loss: the elected relay keeps an epoch marker on ``privops.heartbeat``
(``shared.broker_epoch``) whose ``since`` is the instant from which everything this service
published is in the broker's log. It checks the marker every few seconds; when the broker lost
it, every row published since ``since`` is marked unpublished again (``replay_published_since``)
and re-sent in id order, and a new marker is placed. A relay elected on a broker that holds a
predecessor's marker adopts its ``since``; one that finds none (a new broker, or one that lost
its log while no relay ran) re-sends every published row still kept. Consumers are idempotent
(the inbox), so a re-sent event changes nothing that was already applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
import zlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    any_,
    bindparam,
    delete,
    func,
    text,
    update,
)
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.broker_epoch import HEARTBEAT_TOPIC, EpochMarker
from shared.clock import Clock
from shared.db import Database, UTCDateTime
from shared.events.catalogue import Event
from shared.events.envelope import JSON_CONTENT_TYPE, SPECVERSION, CloudEvent
from shared.logging import correlation_id_var, new_traceparent, trace_id_of, traceparent_var
from shared.metrics import OUTBOX_BACKLOG, OUTBOX_ERRORS, OUTBOX_OLDEST_AGE, OUTBOX_PUBLISHED, RELAY_ACTIVE
from shared.settings import ServiceSettings

log = structlog.get_logger("privops.outbox")

NOTIFY_CHANNEL = "privops_outbox"
# Columns of an outbox row as ``outbox_rows`` builds them, in order (for COPY).
OUTBOX_COLUMNS = ("event_id", "tenant_id", "topic", "key", "event_type", "headers", "payload")
_NOTIFIED = "privops.outbox.notified"
# ``since`` when nothing proves the broker holds anything: every published row still kept is re-sent.
EPOCH_START = datetime(1970, 1, 1, tzinfo=UTC)


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


_OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]
# One statement however many events were acknowledged (an array parameter, not a list of literals).
MARK_PUBLISHED = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger))))
    .values(published_at=func.now())
)


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
    await notify_relay(session)
    return envelope


async def stage_many(
    session: AsyncSession,
    events: Iterable[tuple[Event, str | None]],
    *,
    tenant_id: str,
    clock: Clock,
    service: str,
) -> int:
    """Stage many ``(event, subject)`` pairs with one COPY, in order; they leave only if the transaction commits.

    The rows carry exactly what ``stage`` would store (same headers, same payload), built without
    an intermediate envelope per event. Returns the number of events staged.
    """
    rows = outbox_rows(events, tenant_id=tenant_id, source=f"/privops/{service}", now=clock.now())
    if not rows:
        return 0
    await session.flush()  # events staged earlier in this transaction keep their place in the order
    # Before the COPY: a statement through the session opens the database transaction, which a COPY on
    # the raw connection would not (it would commit on its own, even if this transaction rolls back).
    await notify_relay(session)
    connection = await session.connection()
    driver: Any = (await connection.get_raw_connection()).driver_connection
    await driver.copy_records_to_table(OutboxMessage.__tablename__, records=rows, columns=OUTBOX_COLUMNS)
    return len(rows)


def outbox_rows(
    events: Iterable[tuple[Event, str | None]], *, tenant_id: str, source: str, now: datetime
) -> list[tuple[Any, ...]]:
    """Outbox rows (``OUTBOX_COLUMNS``, headers as JSON text) for ``(event, subject)`` pairs, COPY-ready.

    Equivalent to ``build_envelope`` + ``to_kafka_headers`` + ``data_bytes`` per event, with the
    attributes shared by the whole batch (source, tenant, time, correlation, trace) computed once.
    """
    correlation_id = correlation_id_var.get()
    trace_id = trace_id_of(traceparent_var.get())
    shared = {"ce_specversion": SPECVERSION}
    time_text = now.isoformat()
    rows: list[tuple[Any, ...]] = []
    dumps = json.dumps
    for event, subject in events:
        model = type(event)
        event_id = uuid.uuid4()
        headers = shared | {
            "ce_id": str(event_id),
            "ce_source": source,
            "ce_type": model.event_type,
            "ce_tenantid": tenant_id,
        }
        if subject:
            headers["ce_subject"] = subject
        headers["ce_time"] = time_text
        headers["ce_dataschema"] = model.dataschema()
        headers["ce_traceparent"] = new_traceparent(trace_id)
        if correlation_id:
            headers["ce_correlationid"] = correlation_id
        headers["content-type"] = JSON_CONTENT_TYPE
        rows.append(
            (
                event_id,
                tenant_id,
                model.topic,
                partition_key(tenant_id, subject),
                model.event_type,
                dumps(headers, ensure_ascii=False),
                model.__pydantic_serializer__.to_json(event),  # the model is valid already: no second validation
            )
        )
    return rows


async def notify_relay(session: AsyncSession) -> None:
    """Wake the relay when the transaction commits; one NOTIFY per transaction however many events it stages."""
    sync = session.sync_session
    current = sync.get_nested_transaction() or sync.get_transaction()
    if current is not None and session.info.get(_NOTIFIED) is current:
        return
    # Delivered at commit only, so the relay wakes for committed rows and never for rolled-back ones.
    await session.exec(select(func.pg_notify(NOTIFY_CHANNEL, "")))
    session.info[_NOTIFIED] = sync.get_nested_transaction() or sync.get_transaction()


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
        epoch_check_interval_s: float = 2.0,
    ) -> None:
        self.database = database
        self.producer = producer
        self.settings = settings
        self.service = settings.service_name
        self.batch_size = settings.relay_batch_size
        self.poll_interval_s = settings.relay_poll_interval_s
        self.standby_interval_s = standby_interval_s
        self.epoch_check_interval_s = epoch_check_interval_s
        self.epoch = EpochMarker(
            producer, settings.kafka_bootstrap_servers, settings.topic(HEARTBEAT_TOPIC), f"relay:{self.service}"
        )
        self.replayed = 0  # events marked for re-sending after broker losses, since this relay was built
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
        try:
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
        finally:
            await self.epoch.close()

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
                await self.secure_epoch()
                last_metrics = last_check = 0.0
                loop = asyncio.get_running_loop()
                while not self._stopping.is_set():
                    self._wake.clear()
                    published = await self.publish_batch()
                    if loop.time() - last_check > self.epoch_check_interval_s:
                        await self.verify_broker()
                        last_check = loop.time()
                    if loop.time() - last_metrics > 5.0:
                        await self.refresh_metrics()
                        last_metrics = loop.time()
                    if published < self.batch_size:
                        await self._sleep(self.poll_interval_s)
            finally:
                await driver.remove_listener(NOTIFY_CHANNEL, on_notify)
                await lock_conn.execute(sa_select(func.pg_advisory_unlock(key)))
                await lock_conn.commit()

    async def secure_epoch(self) -> None:
        """On election: make sure the broker holds what was published, else have it re-sent."""
        if self.epoch.marker is not None:  # re-elected in this process: is our marker still there?
            await self.verify_broker()
            return
        previous = await self.epoch.find_latest()
        if previous is not None and previous.since is not None:
            await self.epoch.place(previous.since)  # same broker log as our predecessor: nothing lost
            return
        await self.replay_since(EPOCH_START)

    async def verify_broker(self) -> bool | None:
        """Check the epoch marker; if the broker lost its log, re-send what it held. None: unknown."""
        state = await self.epoch.check()
        if state is False and self.epoch.marker is not None:
            self.epoch.lost()
            await self.replay_since(self.epoch.marker.since or EPOCH_START)
        return state

    async def replay_since(self, since: datetime) -> int:
        """Mark rows published since ``since`` as unpublished and place a new epoch marker; return the count."""
        async with self.database.session() as session:
            # The transaction's start: every row published from now on gets a later ``published_at``.
            now = (await session.exec(select(func.now()))).one()
            count = await replay_published_since(session, since)
        self.replayed += count
        report = log.warning if count else log.info
        report("outbox.replay", service=self.service, since=since.isoformat(), events=count)
        await self.epoch.place(now)
        self._wake.set()
        return count

    async def publish_batch(self) -> int:
        """Publish the oldest unpublished events; mark the acknowledged prefix as published."""
        table = _OUTBOX  # Core rows, not ORM objects: a large backlog is read and marked in bulk
        columns = table.c
        async with self.database.session() as session:
            connection = await session.connection()
            messages = (
                await connection.execute(
                    sa_select(columns.id, columns.event_id, columns.topic, columns.key, columns.headers)
                    .add_columns(columns.payload)
                    .where(columns.published_at.is_(None))
                    .order_by(columns.id)
                    .limit(self.batch_size)
                )
            ).all()
            if not messages:
                return 0
            futures = []
            send = self.producer.send
            for message in messages:
                futures.append(
                    await send(
                        self.settings.topic(message.topic),
                        value=message.payload,
                        key=message.key.encode(),
                        headers=[(k, v.encode()) for k, v in message.headers.items()],
                    )
                )
            await asyncio.wait(futures)  # one wait for the whole batch; then read the results in order
            acked: list[int] = []
            failure: BaseException | None = None
            for message, future in zip(messages, futures, strict=True):
                failure = future.exception()
                if failure is not None:
                    break  # keep order: everything after a failure is sent again
                acked.append(message.id)
            for future in futures[len(acked) + 1 :]:
                future.exception()  # retrieved, so that asyncio does not report it as never retrieved
            if acked:
                await connection.execute(MARK_PUBLISHED, {"ids": acked})
                OUTBOX_PUBLISHED.labels(self.service).inc(len(acked))
            if failure is not None:
                OUTBOX_ERRORS.labels(self.service).inc()
                failed = messages[len(acked)]
                await connection.execute(
                    update(table)
                    .where(columns.id == failed.id)
                    .values(attempts=columns.attempts + 1, last_error=str(failure)[:2000])
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
