"""Transactional outbox: events are staged in the same transaction as the state change.

A relay per service publishes staged events to Kafka in order (acks=all) and marks them sent
only after the broker acknowledged them. One replica at a time holds the relay (a PostgreSQL
advisory lock), so replicas can run side by side. Published rows are kept for a while so that
a broker that lost its log (a memory-only dev broker restart) can be re-fed.

Broker loss (``broker_epoch`` on, for a broker that forgets its log when it restarts): the elected
relay keeps an epoch marker on ``privops.heartbeat`` (``shared.bus.broker_epoch``) whose ``since`` is
the instant from which everything this service published is in the broker's log. When the broker
lost it, every row published since ``since`` is marked unpublished again (``replay_published_since``)
and re-sent in id order; consumers are idempotent (the inbox), so a re-sent event changes nothing.
Packed rows (``stage_many(packed=True)``) are described in ``shared.bus.packs``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import structlog
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
    case,
    cast,
    delete,
    func,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.bus.packs import (
    PACK_COUNT_HEADER,
    PACK_SIZE,
    PACKED_EVENT_TYPE,
    OutgoingEvent,
    packed_rows,
    partition_key,
    unpack,
)
from shared.events.catalogue import Event
from shared.events.envelope import JSON_CONTENT_TYPE, SPECVERSION, CloudEvent
from shared.rules.clock import Clock
from shared.runtime.db import UTCDateTime, copy_rows, new_ids
from shared.runtime.logging import (
    correlation_id_var,
    new_trace_id,
    new_traceparent,
    trace_id_of,
    traceparent_var,
)

__all__ = [
    "EPOCH_START",
    "EVENTS_OF_ROW",
    "MARK_PUBLISHED",
    "NOTIFY_CHANNEL",
    "OUTBOX_COLUMNS",
    "OUTBOX_TABLE",
    "PACKED_EVENT_TYPE",
    "PACK_COUNT_HEADER",
    "PACK_SIZE",
    "OutboxMessage",
    "OutgoingEvent",
    "build_envelope",
    "notify_relay",
    "outbox_rows",
    "partition_key",
    "purge_published",
    "replay_published_since",
    "stage",
    "stage_many",
    "stage_rows",
    "staged_events",
    "unpack",
]

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


OUTBOX_TABLE = OutboxMessage.__table__  # type: ignore[attr-defined]
# One statement however many events were acknowledged (an array parameter, not a list of literals).
MARK_PUBLISHED = (
    update(OUTBOX_TABLE)
    .where(OUTBOX_TABLE.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger))))
    .values(published_at=func.now())
)

# How many events a row carries: a packed row says so in its headers.
EVENTS_OF_ROW = case(
    (OUTBOX_TABLE.c.event_type == PACKED_EVENT_TYPE, cast(OUTBOX_TABLE.c.headers[PACK_COUNT_HEADER].astext, Integer)),
    else_=1,
)


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
    packed: bool = False,
) -> int:
    """Stage many ``(event, subject)`` pairs with one COPY, in order; they leave only if the transaction commits.

    The rows carry exactly what ``stage`` would store (same headers, same payload), built without
    an intermediate envelope per event. ``packed``: up to ``PACK_SIZE`` consecutive events of a topic
    share one row (see ``outbox_rows``), for bulk paths such as an import. Returns the number of events.
    """
    pairs = list(events)
    await stage_rows(
        session, outbox_rows(pairs, tenant_id=tenant_id, source=f"/privops/{service}", now=clock.now(), packed=packed)
    )
    return len(pairs)


async def stage_rows(session: AsyncSession, rows: list[tuple[Any, ...]]) -> None:
    """Stage rows built by ``outbox_rows`` (e.g. ahead of a lock, outside the critical section) with one COPY."""
    if not rows:
        return
    await notify_relay(session)
    # After what the session staged before (copy_rows flushes first), in the session's transaction.
    await copy_rows(session, OutboxMessage.__tablename__, OUTBOX_COLUMNS, rows)


def outbox_rows(
    events: Iterable[tuple[Event, str | None]], *, tenant_id: str, source: str, now: datetime, packed: bool = False
) -> list[tuple[Any, ...]]:
    """Outbox rows (``OUTBOX_COLUMNS``, headers as JSON text) for ``(event, subject)`` pairs, COPY-ready.

    Equivalent to ``build_envelope`` + ``to_kafka_headers`` + ``data_bytes`` per event, with the
    attributes shared by the whole batch (source, tenant, time, correlation, trace) computed once.

    ``packed``: a row per run of up to ``PACK_SIZE`` consecutive events of one topic
    (``shared.bus.packs``): one row instead of hundreds, far less for PostgreSQL to write, index and
    mark published.
    """
    correlation_id = correlation_id_var.get()
    trace_id = trace_id_of(traceparent_var.get()) or new_trace_id()  # one trace for the events of one call
    shared = {"ce_specversion": SPECVERSION, "ce_source": source, "ce_tenantid": tenant_id, "ce_time": now.isoformat()}
    if correlation_id:
        shared["ce_correlationid"] = correlation_id
    shared["content-type"] = JSON_CONTENT_TYPE
    pairs = list(events)
    ids = new_ids(len(pairs))
    if packed:
        return packed_rows(pairs, ids, tenant_id, shared, trace_id)
    rows: list[tuple[Any, ...]] = []
    schemas: dict[type[Event], str] = {}
    for (event, subject), event_id in zip(pairs, ids, strict=True):
        model = type(event)
        own = {"ce_id": str(event_id), "ce_type": model.event_type}
        if subject:
            own["ce_subject"] = subject
        own["ce_dataschema"] = schemas.get(model) or schemas.setdefault(model, model.dataschema())
        own["ce_traceparent"] = new_traceparent(trace_id)
        headers = orjson.dumps(shared | own).decode()
        payload = model.__pydantic_serializer__.to_json(event)  # the model is valid already: no second validation
        key = partition_key(tenant_id, subject)
        rows.append((event_id, tenant_id, model.topic, key, model.event_type, headers, payload))
    return rows


async def staged_events(session: AsyncSession, *, unpublished: bool = False) -> list[OutgoingEvent]:
    """The events the outbox holds (or only those not yet published), in order, packed rows unpacked."""
    query = select(OutboxMessage).order_by(col(OutboxMessage.id))
    if unpublished:
        query = query.where(col(OutboxMessage.published_at).is_(None))
    return [event for row in (await session.exec(query)).all() for event in unpack(row)]


async def notify_relay(session: AsyncSession) -> None:
    """Wake the relay when the transaction commits; one NOTIFY per transaction however many events it stages."""
    sync = session.sync_session
    current = sync.get_nested_transaction() or sync.get_transaction()
    if current is not None and session.info.get(_NOTIFIED) is current:
        return
    # Delivered at commit only, so the relay wakes for committed rows and never for rolled-back ones.
    await session.exec(select(func.pg_notify(NOTIFY_CHANNEL, "")))
    session.info[_NOTIFIED] = sync.get_nested_transaction() or sync.get_transaction()


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
