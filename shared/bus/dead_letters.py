"""Dead letters: events a consumer gave up on, kept with the reason so they can be inspected and replayed.

A dead-lettered record goes to the topic ``privops.dlq.<group>`` (with its original headers plus
``dlq_*`` ones) and to the ``dead_letter`` table, which keeps everything a replay needs: the
record as it came (headers, key, value, topic, partition, offset), what could be read of its
envelope (id, type, source, subject, tenant), the group, the reason and the attempts. Nothing is
dropped silently: if even the dead-letter topic cannot be written, ``DeadLetters.send`` raises
and the offset is not committed.

A row is ``open`` until a person replays it (``replayed``: when, by whom, with what outcome) or
discards it (``discarded``: by whom, why); ``shared.bus.dead_letter_admin`` holds those use cases.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import structlog
from aiokafka import AIOKafkaProducer, ConsumerRecord
from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.events.envelope import CloudEvent
from shared.events.topics import dead_letter_topic
from shared.rules.clock import Clock
from shared.runtime.auth import TENANT_PATTERN
from shared.runtime.db import Database, UTCDateTime
from shared.runtime.metrics import DEAD_LETTERS

log = structlog.get_logger("privops.consumer")
MAX_KEPT_VALUE = 1_000_000  # bytes of a record kept for replay; a larger one is only on the DLQ topic


class DeadLetterState(StrEnum):
    """Where a dead letter stands: waiting for a person, applied again, or given up on purpose."""

    OPEN = "open"
    REPLAYED = "replayed"
    DISCARDED = "discarded"


class DeadLetter(SQLModel, table=True):
    """An event a consumer gave up on, kept with the reason so that it can be inspected and replayed."""

    __tablename__ = "dead_letter"
    __table_args__ = (Index("ix_dead_letter_tenant_state", "tenant_id", "state", "id"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    consumer_group: str = Field(sa_column=Column(String(255), nullable=False, index=True))
    topic: str = Field(sa_column=Column(String(255), nullable=False))
    partition: int = Field(sa_column=Column(Integer, nullable=False))
    offset: int = Field(sa_column=Column(BigInteger, nullable=False))
    event_id: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    event_type: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    # Of the envelope, when it could be read; an event without a known tenant is a platform operator's.
    tenant_id: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    source: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    subject: str | None = Field(default=None, sa_column=Column(String(512), nullable=True))
    reason: str = Field(sa_column=Column(String(64), nullable=False))
    error: str = Field(sa_column=Column(Text, nullable=False))
    attempts: int = Field(sa_column=Column(Integer, nullable=False))
    headers: dict[str, str] = Field(sa_column=Column(JSONB, nullable=False))
    record_key: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    value: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    failed_at: datetime | None = Field(  # the first failure
        default=None, sa_column=Column(UTCDateTime, nullable=False, server_default=func.now())
    )
    last_failed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    state: str = Field(
        default=DeadLetterState.OPEN.value,
        sa_column=Column(String(16), nullable=False, server_default=text("'open'")),
    )
    resolved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    resolved_by: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    outcome: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    discard_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))

    def record(self) -> ConsumerRecord[bytes, bytes]:
        """The Kafka record as the consumer received it (headers, key and value), to be applied again."""
        headers = [(name, value.encode()) for name, value in self.headers.items()]
        key, value = self.record_key, self.value
        return ConsumerRecord(
            self.topic,
            self.partition,
            self.offset,
            0,
            0,
            key,
            value,  # type: ignore[arg-type]  # None only for a record not kept (refused before replay)
            None,
            len(key or b""),
            len(value or b""),
            headers,
        )


class DeadLetterError(Exception):
    """Raised inside the runner when an event must go to the dead-letter topic now."""

    def __init__(self, reason: str, error: str, attempts: int = 1, envelope: CloudEvent | None = None) -> None:
        super().__init__(error)
        self.reason = reason
        self.error = error
        self.attempts = attempts
        self.envelope = envelope


class DeadLetters:
    """Writes one consumer group's dead letters: the DLQ topic first, then the table."""

    def __init__(
        self, producer: AIOKafkaProducer, database: Database, clock: Clock, *, service: str, group: str
    ) -> None:
        self.producer = producer
        self.database = database
        self.clock = clock
        self.service = service
        self.group = group

    async def send(
        self,
        record: ConsumerRecord[bytes, bytes],
        envelope: CloudEvent | None,
        reason: str,
        error: str,
        *,
        attempts: int,
    ) -> None:
        """Dead-letter ``record`` (its ``envelope`` when it could be read) with the reason."""
        now = self.clock.now()
        headers = [(k, v) for k, v in (record.headers or ())]
        extra = {
            "dlq_reason": reason,
            "dlq_error": error[:2000],
            "dlq_group": self.group,
            "dlq_original_topic": record.topic,
            "dlq_original_partition": str(record.partition),
            "dlq_original_offset": str(record.offset),
            "dlq_failed_at": now.isoformat(),
        }
        headers += [(k, v.encode()) for k, v in extra.items()]
        # Wait for the broker: if the dead letter cannot be written, raising keeps the offset uncommitted.
        await self.producer.send_and_wait(
            dead_letter_topic(self.group), value=record.value, key=record.key, headers=headers
        )
        async with self.database.session() as session:
            session.add(dead_letter_row(record, envelope, self.group, reason, error, attempts=attempts, now=now))
        DEAD_LETTERS.labels(self.service, self.group).inc()
        log.error(
            "consumer.dead_lettered",
            group=self.group,
            reason=reason,
            error=error[:500],
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            event_id=envelope.id if envelope else None,
        )


def dead_letter_row(
    record: ConsumerRecord[bytes, bytes],
    envelope: CloudEvent | None,
    group: str,
    reason: str,
    error: str,
    *,
    attempts: int,
    now: datetime,
) -> DeadLetter:
    """The ``dead_letter`` row of ``record``: everything needed to show it and to apply it again."""
    tenant = envelope.tenantid if envelope and TENANT_PATTERN.match(envelope.tenantid) else None
    kept = record.value is not None and len(record.value) <= MAX_KEPT_VALUE
    return DeadLetter(
        consumer_group=group,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        event_id=envelope.id[:255] if envelope else None,
        event_type=envelope.type[:255] if envelope else None,
        tenant_id=tenant,
        source=envelope.source[:255] if envelope else None,
        subject=envelope.subject[:512] if envelope and envelope.subject else None,
        reason=reason,
        error=error[:10_000],
        attempts=attempts,
        headers={k: _header_text(v) for k, v in (record.headers or ())},
        record_key=record.key,
        value=record.value if kept else None,
        failed_at=now,
        last_failed_at=now,
    )


def _header_text(value: bytes | None) -> str:
    if value is None:
        return ""
    try:
        return value.decode()
    except UnicodeDecodeError:
        return value.hex()
