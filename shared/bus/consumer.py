"""Kafka consumers with an inbox: every event changes state at most once.

Each handler runs in one database transaction together with an inbox row keyed by
(consumer group, event id), inserted with ``ON CONFLICT DO NOTHING``: a redelivered event finds
its row and is skipped. Kafka offsets are committed only after the database commit. A failing
event is retried with backoff, then dead-lettered (topic ``privops.dlq.<group>`` and the
``dead_letter`` table) with the reason, and the consumer moves on. Nothing is dropped silently:
if even the dead-letter topic cannot be written, the offset is not committed.

Broker loss: a memory-only broker that restarts keeps no offsets, and a consumer would keep its
old position and silently skip the new log's first messages. Each runner therefore rewinds a
partition whose position is beyond its end (the log shrank), and keeps an epoch marker
(``shared.bus.broker_epoch``): when the broker lost it, every assigned partition (and any assigned
in the following minute) is read again from the beginning. Offsets are committed only after the
marker was seen intact, so offsets read from a lost log never become the new broker's committed
offsets (a restarted process would start from them and skip the new log's first messages). The
inbox makes the re-reading harmless, and the relays re-send what the broker lost.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from asyncpg.exceptions import CannotConnectNowError, ConnectionDoesNotExistError, PostgresConnectionError
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    bindparam,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.bus.broker_epoch import HEARTBEAT_TOPIC, EpochMarker, RewindGuard
from shared.events.catalogue import CATALOGUE, Event, InvalidEventData, UnknownEventType, decode, load_all
from shared.events.envelope import CloudEvent, EnvelopeError
from shared.events.topics import dead_letter_topic
from shared.rules.clock import Clock
from shared.rules.errors import ProblemError
from shared.runtime.db import Database, UTCDateTime
from shared.runtime.logging import bind_request_context, new_trace_id
from shared.runtime.metrics import CONSUMER_LAG, DEAD_LETTERS, EVENTS_CONSUMED
from shared.runtime.settings import ServiceSettings
from shared.runtime.uow import UnitOfWork

log = structlog.get_logger("privops.consumer")
POLL_RECORDS = 200  # at most, per poll of a group applying one event per transaction
BATCHED_POLL_RECORDS = 2000  # at most, per poll (and transaction) of a batched group


_FILTER_HEADERS = ("ce_type", "ce_tenantid", "ce_subject")


class InboxEntry(SQLModel, table=True):
    """An event a consumer group has applied; its presence makes redelivery harmless."""

    __tablename__ = "inbox"
    __table_args__ = (PrimaryKeyConstraint("consumer_group", "event_id"),)

    consumer_group: str = Field(sa_column=Column(String(255), nullable=False))
    event_id: str = Field(sa_column=Column(String(255), nullable=False))
    event_type: str = Field(sa_column=Column(String(255), nullable=False))
    processed_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=False, server_default=func.now())
    )


# A poll's inbox rows in one statement (array parameters: one cached statement whatever the poll's size).
INBOX_MANY = text(
    "INSERT INTO inbox (consumer_group, event_id, event_type) "
    "SELECT :group, e.id, e.type FROM unnest(:ids, :types) AS e(id, type) "
    "ON CONFLICT DO NOTHING RETURNING event_id"
).bindparams(bindparam("ids", type_=ARRAY(String)), bindparam("types", type_=ARRAY(String)))


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


@dataclass(frozen=True)
class EventContext:
    """What a handler receives besides the typed event: the envelope, the clock and the settings."""

    envelope: CloudEvent
    clock: Clock
    settings: ServiceSettings

    @property
    def tenant_id(self) -> str:
        """The tenant the event belongs to."""
        return self.envelope.tenantid

    def unit_of_work(self, session: AsyncSession, actor: str | None = None) -> UnitOfWork[Any]:
        """The handler's unit of work: the event's tenant, acting as ``actor`` (by default the event's type)."""
        return UnitOfWork(session, self.settings, self.clock, self.tenant_id, actor or f"event:{self.envelope.type}")


Handler = Callable[[AsyncSession, Any, EventContext], Awaitable[None]]
# Applies events of a poll (at most one per key) at once, with the same effect as their handlers one by one.
BulkHandler = Callable[[AsyncSession, Sequence[tuple[Any, EventContext]]], Awaitable[None]]
# Of (tenant, subject) pairs, those events of a type may change anything for (``Subscription.subject_filters``).
SubjectFilter = Callable[[AsyncSession, Sequence[tuple[str, str]]], Awaitable[set[tuple[str, str]]]]


@dataclass
class Subscription:
    """A consumer group of a service: the topics it reads and a handler per event type."""

    name: str
    handlers: Mapping[type[Event], Handler]
    topics: Sequence[str] = field(default_factory=tuple)
    # Events this group does not concern itself with (e.g. tasks for another system) are skipped
    # before any transaction: no inbox row, no commit.
    accepts: Callable[[Event], bool] | None = None
    # The handlers only touch the database: a poll's events are applied in one transaction (one commit
    # for up to ``BATCHED_POLL_RECORDS`` events instead of one each); if any of them fails, the poll is
    # rolled back and applied again one event per transaction, with the usual retries and dead letters.
    batched: bool = False
    # With ``batched``: for an event type, a function applying many events of different keys at once
    # (one statement for a burst of consent grants instead of one each; see ``_apply_together``). The
    # per-event handler stays the definition: it applies the events when a poll falls back to one
    # transaction per event, and a bulk handler must have the same effect.
    bulk_handlers: Mapping[type[Event], BulkHandler] = field(default_factory=dict)
    # With ``batched``: for an event type whose handler changes something only for a few subjects (a
    # grant cancels what waits on that subject, and most subjects have nothing waiting), a function
    # telling which of a poll's (tenant, subject) pairs it may change something for, from the
    # ``ce_tenantid`` and ``ce_subject`` headers. The poll's other events of that type are skipped
    # unparsed and without an inbox row, counted as ignored: the handler must do nothing for them,
    # whenever it runs (idempotent, and not undoing anything newer). An event whose subject had an
    # earlier event of another type in the poll is always applied: that one may change the answer.
    subject_filters: Mapping[type[Event], SubjectFilter] = field(default_factory=dict)

    def topic_names(self) -> list[str]:
        """The topics to subscribe to: those given, else those of the handled event types."""
        return sorted(set(self.topics) or {event.topic for event in self.handlers})

    def group_id(self, settings: ServiceSettings) -> str:
        """The Kafka consumer group id."""
        return f"{settings.topic_prefix}privops.{settings.service_name}.{self.name}"


@dataclass(frozen=True, slots=True)
class _Work:
    """A decoded record with the handler that applies it."""

    record: ConsumerRecord[bytes, bytes]
    envelope: CloudEvent
    event: Event
    handler: Handler


class DeadLetterError(Exception):
    """Raised inside the runner when an event must go to the dead-letter topic now."""

    def __init__(self, reason: str, error: str, attempts: int = 1) -> None:
        super().__init__(error)
        self.reason = reason
        self.error = error
        self.attempts = attempts


PERMANENT_ERRORS: tuple[type[BaseException], ...] = (ProblemError, ValueError, LookupError, TypeError)


class ConsumerRunner:
    """Runs one subscription: poll, apply each event once, commit offsets after the database."""

    def __init__(
        self,
        subscription: Subscription,
        *,
        database: Database,
        producer: AIOKafkaProducer,
        settings: ServiceSettings,
        clock: Clock,
    ) -> None:
        load_all()
        self.subscription = subscription
        self.database = database
        self.producer = producer
        self.settings = settings
        self.clock = clock
        self.service = settings.service_name
        self.group = subscription.group_id(settings)
        self.by_type = {event.event_type: (event, handler) for event, handler in subscription.handlers.items()}
        self.bulk_by_type = {event.event_type: bulk for event, bulk in subscription.bulk_handlers.items()}
        if missing := set(self.bulk_by_type) - set(self.by_type):
            raise ValueError(f"bulk handlers need a handler for the same event type: {sorted(missing)}")
        self.filter_by_type = {event.event_type: test for event, test in subscription.subject_filters.items()}
        if missing := set(self.filter_by_type) - set(self.by_type):
            raise ValueError(f"subject filters need a handler for the same event type: {sorted(missing)}")
        if self.filter_by_type and not subscription.batched:
            raise ValueError("subject filters apply to batched groups only (batched=True)")
        self.consumer: AIOKafkaConsumer | None = None
        self.guard = RewindGuard(
            EpochMarker(
                producer, settings.kafka_bootstrap_servers, settings.topic(HEARTBEAT_TOPIC), f"consumer:{self.group}"
            ),
            self.group,
        )
        # A poll costs broker round trips besides its records (the epoch check before the commit, the
        # commit, the lag): a batched group takes larger polls when it runs behind.
        self.poll_records = BATCHED_POLL_RECORDS if subscription.batched else POLL_RECORDS
        self.started = asyncio.Event()
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Finish the current batch and exit."""
        self._stopping.set()

    async def run(self) -> None:
        """Consume until stopped, reconnecting after failures."""
        try:
            while not self._stopping.is_set():
                try:
                    await self._consume()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("consumer.error", group=self.group, error=str(exc), error_type=type(exc).__name__)
                    await asyncio.sleep(1.0)
        finally:
            await self.guard.epoch.close()

    async def _consume(self) -> None:
        session_timeout = self.settings.consumer_session_timeout_ms
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            group_id=self.group,
            client_id=f"{self.service}-{self.subscription.name}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=session_timeout,
            heartbeat_interval_ms=max(300, session_timeout // 3),
            request_timeout_ms=max(40_000, session_timeout + 5_000),
            max_poll_records=self.poll_records,
            # Larger than the event limit, so an oversized record is fetched and dead-lettered, never stuck.
            max_partition_fetch_bytes=8 * 1024 * 1024,
        )
        self.consumer = consumer
        await consumer.start()
        consumer.subscribe(
            [self.settings.topic(t) for t in self.subscription.topic_names()], listener=self.guard.listener(consumer)
        )
        self.started.set()
        log.info("consumer.started", group=self.group, topics=self.subscription.topic_names())
        try:
            while not self._stopping.is_set():
                await self.guard.check_broker(consumer)
                batches = await consumer.getmany(timeout_ms=500, max_records=self.poll_records)
                if not batches:
                    await self._report_lag(consumer)
                    continue
                offsets = {tp: records[-1].offset + 1 for tp, records in batches.items() if records}
                polled = [record for records in batches.values() for record in records]
                if self.subscription.batched:
                    await self.process_many(polled)
                else:
                    for record in polled:
                        await self.process(record)
                # Offsets only after every record's transaction has committed (or was dead-lettered), and
                # only into the broker log the records came from (a restarted broker would take stale ones).
                if await self.guard.may_commit(consumer):
                    await consumer.commit(offsets)
                await self._report_lag(consumer)
        finally:
            self.consumer = None
            await consumer.stop()

    async def _report_lag(self, consumer: AIOKafkaConsumer) -> None:
        lag: dict[str, int] = {}
        for tp, (position, high) in (await self.guard.check_positions(consumer)).items():
            lag[tp.topic] = lag.get(tp.topic, 0) + max(0, high - position)
        for topic, value in lag.items():
            CONSUMER_LAG.labels(self.service, self.group, topic).set(value)

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> str:
        """Apply one record; return the outcome (applied, duplicate, ignored, dead_lettered)."""
        work = await self._decode(record)
        return work if isinstance(work, str) else await self._apply_one(work)

    async def process_many(self, records: list[ConsumerRecord[bytes, bytes]]) -> list[str]:
        """Apply records in order in one transaction; one per record if any of them fails. Outcomes in order."""
        unwanted = await self._filtered_out(records) if self.filter_by_type else {}
        decoded: list[_Work | str] = [
            "ignored" if index in unwanted else await self._decode(record) for index, record in enumerate(records)
        ]
        for event_type, count in Counter(unwanted.values()).items():
            EVENTS_CONSUMED.labels(self.service, self.group, event_type, "ignored").inc(count)
        work = [item for item in decoded if not isinstance(item, str)]
        try:
            applied = iter(await self._apply_together(work) if work else [])
        except Exception as exc:
            log.info(
                "consumer.batch_fallback", group=self.group, events=len(work), error=f"{type(exc).__name__}: {exc}"
            )
            return [item if isinstance(item, str) else await self._apply_one(item) for item in decoded]
        outcomes = [item if isinstance(item, str) else next(applied) for item in decoded]
        counted = Counter(
            (item.envelope.type, outcome)
            for item, outcome in zip(decoded, outcomes, strict=True)
            if not isinstance(item, str)
        )
        for (event_type, outcome), count in counted.items():  # one metric update per type, not per event
            EVENTS_CONSUMED.labels(self.service, self.group, event_type, outcome).inc(count)
        return outcomes

    async def _decode(self, record: ConsumerRecord[bytes, bytes]) -> _Work | str:
        """What to apply for ``record``, or the outcome when there is nothing to apply (ignored, dead_lettered)."""
        envelope: CloudEvent | None = None
        try:
            size = len(record.value or b"")
            if size > self.settings.consumer_max_event_bytes:
                # Events are small facts; a huge record is a bug or an attack, not something to parse.
                limit = self.settings.consumer_max_event_bytes
                raise DeadLetterError("too_large", f"record of {size} bytes exceeds the {limit}-byte limit")
            if (skipped := self._not_ours(record)) is not None:
                EVENTS_CONSUMED.labels(self.service, self.group, skipped, "ignored").inc()
                return "ignored"
            try:
                envelope = CloudEvent.from_kafka(record.headers, record.value)
            except EnvelopeError as exc:
                raise DeadLetterError("malformed", str(exc)) from None
            try:
                event = decode(envelope)
            except UnknownEventType as exc:
                raise DeadLetterError("unknown_type", str(exc)) from None
            except InvalidEventData as exc:
                raise DeadLetterError("invalid_data", str(exc)) from None
        except DeadLetterError as exc:
            await self._dead_letter(record, envelope, exc.reason, exc.error, attempts=exc.attempts)
            return "dead_lettered"
        entry = self.by_type.get(envelope.type)
        accepts = self.subscription.accepts
        if entry is None or (accepts is not None and not accepts(event)):
            EVENTS_CONSUMED.labels(self.service, self.group, envelope.type, "ignored").inc()
            return "ignored"
        return _Work(record, envelope, event, entry[1])

    async def _filtered_out(self, records: list[ConsumerRecord[bytes, bytes]]) -> dict[int, str]:
        """The records a subject filter leaves out (``Subscription.subject_filters``): index → event type."""
        candidates: dict[str, list[tuple[int, tuple[str, str]]]] = {}
        first: dict[tuple[str, str], str] = {}  # the type of the poll's first event about a subject ("": mixed)
        for index, record in enumerate(records):
            found = dict(record.headers or ())  # built in C: cheaper than picking the three out in Python
            try:
                event_type, tenant, subject = (found.get(name, b"").decode() for name in _FILTER_HEADERS)
            except UnicodeDecodeError:
                break
            if not (tenant and subject):
                break  # an event this poll cannot place: nothing after it is filtered
            pair = (tenant, subject)
            if event_type in self.filter_by_type and first.setdefault(pair, event_type) == event_type:
                candidates.setdefault(event_type, []).append((index, pair))
            elif event_type in self.by_type:
                first[pair] = ""  # another kind of event about the subject: everything after it is applied
        unwanted: dict[int, str] = {}
        if not candidates:
            return unwanted
        async with self.database.session() as session:
            for event_type, listed in candidates.items():
                wanted = await self.filter_by_type[event_type](session, sorted({pair for _, pair in listed}))
                unwanted.update((index, event_type) for index, pair in listed if pair not in wanted)
        return unwanted

    def _not_ours(self, record: ConsumerRecord[bytes, bytes]) -> str | None:
        """The type of a catalogue event no handler of this group takes (skipped unparsed), else None.

        Read from the ``ce_type`` header alone: a topic carries types a group leaves to others (the
        consent topic's denials, for retention), and parsing them would be most of what they cost.
        Unknown types and structured-mode records are parsed as usual (and dead-lettered if bad).
        """
        for key, raw in record.headers or ():
            if key == "ce_type":
                event_type = raw.decode(errors="replace")
                return event_type if event_type in CATALOGUE and event_type not in self.by_type else None
        return None

    async def _apply_one(self, work: _Work) -> str:
        try:
            outcome = await self._apply_with_retries(work.envelope, work.event, work.handler)
        except DeadLetterError as exc:
            await self._dead_letter(work.record, work.envelope, exc.reason, exc.error, attempts=exc.attempts)
            return "dead_lettered"
        EVENTS_CONSUMED.labels(self.service, self.group, work.envelope.type, outcome).inc()
        return outcome

    async def _apply_together(self, items: list[_Work]) -> list[str]:
        """A poll's items in one transaction: one inbox statement, then the handlers (raises if any fails).

        Kafka keeps order only between events of the same key (one subject's events); events of
        different keys are independent. So the poll is applied in layers: the first event of every
        key, then the second of every key that has one, and so on. In a layer, the events whose type
        has a bulk handler are applied by one call of it per handler (all the grants of an imported
        file at once); the others one by one. A withdrawal after a grant of the same subject still
        comes after it.
        """
        async with self.database.session() as session:
            fresh = await self._record_many_in_inbox(session, [item.envelope for item in items])
            outcomes: list[str] = []
            layers: list[list[_Work]] = []
            depth: dict[bytes | None, int] = {}
            for item in items:
                if item.envelope.id not in fresh:
                    outcomes.append("duplicate")
                    continue
                fresh.discard(item.envelope.id)  # the same event twice in one poll is applied once
                outcomes.append("applied")
                level = depth.get(item.record.key, 0)
                depth[item.record.key] = level + 1
                if level == len(layers):
                    layers.append([])
                layers[level].append(item)
            for layer in layers:
                together: dict[BulkHandler, list[_Work]] = {}
                for item in layer:
                    bulk = self.bulk_by_type.get(item.envelope.type)
                    if bulk is None:
                        bind_request_context(item.envelope.correlationid or new_trace_id(), item.envelope.traceparent)
                        await item.handler(session, item.event, self._context(item.envelope))
                    else:
                        together.setdefault(bulk, []).append(item)
                for bulk, group in together.items():
                    first = group[0].envelope
                    bind_request_context(first.correlationid or new_trace_id(), first.traceparent)
                    await bulk(session, [(item.event, self._context(item.envelope)) for item in group])
        return outcomes

    def _context(self, envelope: CloudEvent) -> EventContext:
        return EventContext(envelope=envelope, clock=self.clock, settings=self.settings)

    async def _apply_with_retries(self, envelope: CloudEvent, event: Event, handler: Handler) -> str:
        attempts = 0
        while True:
            attempts += 1
            try:
                return await self._apply(envelope, event, handler)
            except PERMANENT_ERRORS as exc:
                raise DeadLetterError("handler_rejected", f"{type(exc).__name__}: {exc}", attempts) from None
            except Exception as exc:
                # The database or the network is away (a restart): not the event's fault, so no dead letter.
                transient = is_transient(exc) and not self._stopping.is_set()
                if attempts > self.settings.consumer_max_retries and not transient:
                    raise DeadLetterError("handler_failed", f"{type(exc).__name__}: {exc}", attempts) from None
                delay = min(5.0, self.settings.consumer_retry_backoff_s * (2 ** min(attempts - 1, 10)))
                log.warning("consumer.retry", group=self.group, event_id=envelope.id, attempt=attempts, error=str(exc))
                await asyncio.sleep(delay)

    async def _apply(self, envelope: CloudEvent, event: Event, handler: Handler) -> str:
        bind_request_context(envelope.correlationid or new_trace_id(), envelope.traceparent)
        async with self.database.session() as session:
            if not await self._record_in_inbox(session, envelope):
                return "duplicate"
            await handler(session, event, self._context(envelope))
        return "applied"

    async def _record_in_inbox(self, session: AsyncSession, envelope: CloudEvent) -> bool:
        """Add the event to the inbox in the handler's transaction; False if this group applied it before."""
        return envelope.id in await self._record_many_in_inbox(session, [envelope])

    async def _record_many_in_inbox(self, session: AsyncSession, envelopes: list[CloudEvent]) -> set[str]:
        """Add the events to the inbox in one statement; the ids this group had not applied before."""
        params = {"group": self.group, "ids": [e.id for e in envelopes], "types": [e.type for e in envelopes]}
        inserted = await (await session.connection()).execute(INBOX_MANY, params)
        return set(inserted.scalars().all())

    async def _dead_letter(
        self,
        record: ConsumerRecord[bytes, bytes],
        envelope: CloudEvent | None,
        reason: str,
        error: str,
        *,
        attempts: int,
    ) -> None:
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


def is_transient(exc: BaseException) -> bool:
    """True for an infrastructure outage (database restarting, connection lost), retried until it ends."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, OSError | TimeoutError | OperationalError | InterfaceError):
            return True
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, PostgresConnectionError | CannotConnectNowError | ConnectionDoesNotExistError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _header_text(value: bytes | None) -> str:
    if value is None:
        return ""
    try:
        return value.decode()
    except UnicodeDecodeError:
        return value.hex()
