"""Dead letters: events a consumer gave up on, kept with the reason so they can be inspected and replayed.

A dead-lettered record goes to the topic ``privops.dlq.<group>`` (with its original headers plus
``dlq_*`` ones) and to the ``dead_letter`` table. Nothing is dropped silently: if even the
dead-letter topic cannot be written, ``DeadLetters.send`` raises and the offset is not committed.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from aiokafka import AIOKafkaProducer, ConsumerRecord
from sqlalchemy import BigInteger, Column, Integer, LargeBinary, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.events.envelope import CloudEvent
from shared.events.topics import dead_letter_topic
from shared.rules.clock import Clock
from shared.runtime.db import Database, UTCDateTime
from shared.runtime.metrics import DEAD_LETTERS

log = structlog.get_logger("privops.consumer")


class DeadLetter(SQLModel, table=True):
    """An event a consumer gave up on, kept with the reason so that it can be inspected and replayed."""

    __tablename__ = "dead_letter"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    consumer_group: str = Field(sa_column=Column(String(255), nullable=False, index=True))
    topic: str = Field(sa_column=Column(String(255), nullable=False))
    partition: int = Field(sa_column=Column(Integer, nullable=False))
    offset: int = Field(sa_column=Column(BigInteger, nullable=False))
    event_id: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    event_type: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    reason: str = Field(sa_column=Column(String(64), nullable=False))
    error: str = Field(sa_column=Column(Text, nullable=False))
    attempts: int = Field(sa_column=Column(Integer, nullable=False))
    headers: dict[str, str] = Field(sa_column=Column(JSONB, nullable=False))
    value: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    failed_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=False, server_default=func.now())
    )


class DeadLetterError(Exception):
    """Raised inside the runner when an event must go to the dead-letter topic now."""

    def __init__(self, reason: str, error: str, attempts: int = 1) -> None:
        super().__init__(error)
        self.reason = reason
        self.error = error
        self.attempts = attempts


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
        headers = [(k, v) for k, v in (record.headers or ())]
        extra = {
            "dlq_reason": reason,
            "dlq_error": error[:2000],
            "dlq_group": self.group,
            "dlq_original_topic": record.topic,
            "dlq_original_partition": str(record.partition),
            "dlq_original_offset": str(record.offset),
            "dlq_failed_at": self.clock.now().isoformat(),
        }
        headers += [(k, v.encode()) for k, v in extra.items()]
        # Wait for the broker: if the dead letter cannot be written, raising keeps the offset uncommitted.
        await self.producer.send_and_wait(
            dead_letter_topic(self.group), value=record.value, key=record.key, headers=headers
        )
        async with self.database.session() as session:
            session.add(
                DeadLetter(
                    consumer_group=self.group,
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    event_id=envelope.id if envelope else None,
                    event_type=envelope.type if envelope else None,
                    reason=reason,
                    error=error[:10_000],
                    attempts=attempts,
                    headers={k: _header_text(v) for k, v in (record.headers or ())},
                    value=record.value if record.value is not None and len(record.value) <= 1_000_000 else None,
                )
            )
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


def _header_text(value: bytes | None) -> str:
    if value is None:
        return ""
    try:
        return value.decode()
    except UnicodeDecodeError:
        return value.hex()
