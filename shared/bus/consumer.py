"""Kafka consumers with an inbox: every event changes state at most once.

Each handler runs in one database transaction together with its inbox row (``shared.bus.inbox``):
a redelivered event finds its row and is skipped. Kafka offsets are committed only after the
database commit. A failing event is retried with backoff, then dead-lettered
(``shared.bus.dead_letters``) with the reason, and the consumer moves on. Batched groups apply a
poll in one transaction (``shared.bus.batch``).

A position beyond its partition's end (the log shrank) is rewound. With ``broker_epoch`` on, the
runner also keeps an epoch marker (``shared.bus.broker_epoch``): when the broker lost its log,
every assigned partition is read again from the beginning, and offsets are committed only after
the marker was seen intact, so offsets read from a lost log never land in the new one.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from asyncpg.exceptions import CannotConnectNowError, ConnectionDoesNotExistError, PostgresConnectionError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.bus.batch import BATCHED_POLL_RECORDS, BatchedPolls
from shared.bus.broker_epoch import HEARTBEAT_TOPIC, EpochMarker, RewindGuard
from shared.bus.dead_letters import DeadLetter, DeadLetterError, DeadLetters
from shared.bus.inbox import INBOX_MANY, InboxEntry, record_in_inbox
from shared.bus.subscription import (
    BulkHandler,
    Delivery,
    EventContext,
    Handler,
    SubjectFilter,
    Subscription,
)
from shared.bus.topic_admin import create_missing_topics
from shared.events.catalogue import CATALOGUE, Event, InvalidEventData, UnknownEventType, decode, load_all
from shared.events.envelope import CloudEvent, EnvelopeError
from shared.events.topics import dead_letter_topic
from shared.rules.clock import Clock
from shared.rules.errors import ProblemError
from shared.runtime.db import Database
from shared.runtime.logging import bind_request_context, new_trace_id
from shared.runtime.metrics import CONSUMER_LAG, EVENTS_CONSUMED
from shared.runtime.settings import ServiceSettings

__all__ = [
    "BATCHED_POLL_RECORDS",
    "INBOX_MANY",
    "POLL_RECORDS",
    "BulkHandler",
    "ConsumerRunner",
    "DeadLetter",
    "DeadLetterError",
    "EventContext",
    "Handler",
    "InboxEntry",
    "SubjectFilter",
    "Subscription",
    "is_transient",
]

log = structlog.get_logger("privops.consumer")
POLL_RECORDS = 200  # at most, per poll of a group applying one event per transaction
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
        self.batch = BatchedPolls(subscription, set(self.by_type), database, self.group, self._context)
        self.dead_letters = DeadLetters(producer, database, clock, service=self.service, group=self.group)
        self.consumer: AIOKafkaConsumer | None = None
        epoch = (
            EpochMarker(
                producer, settings.kafka_bootstrap_servers, settings.topic(HEARTBEAT_TOPIC), f"consumer:{self.group}"
            )
            if settings.broker_epoch
            else None
        )
        self.guard = RewindGuard(epoch, self.group, on_loss=self.recreate_topics)
        # A poll costs broker round trips besides its records (the commit, the lag, the epoch check):
        # a batched group takes larger polls when it runs behind.
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
            await self.guard.close()

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

    async def recreate_topics(self) -> None:
        """After a broker loss: create the topics this group reads and dead-letters into (``topic_admin``)."""
        names = [*self.subscription.topic_names(), dead_letter_topic(self.group)]
        try:
            await create_missing_topics(self.settings.kafka_bootstrap_servers, {self.settings.topic(n) for n in names})
        except Exception as exc:  # the broker is away: producers wait for it, the next loss check tries again
            log.warning("consumer.topics_not_created", group=self.group, error=str(exc) or type(exc).__name__)

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
        unwanted = await self.batch.filtered_out(records)
        decoded: list[Delivery | str] = [
            "ignored" if index in unwanted else await self._decode(record) for index, record in enumerate(records)
        ]
        for event_type, count in Counter(unwanted.values()).items():
            EVENTS_CONSUMED.labels(self.service, self.group, event_type, "ignored").inc(count)
        work = [item for item in decoded if not isinstance(item, str)]
        try:
            applied = iter(await self.batch.apply(work) if work else [])
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

    async def _decode(self, record: ConsumerRecord[bytes, bytes]) -> Delivery | str:
        """What to apply for ``record``, or the outcome when there is nothing to apply (ignored, dead_lettered)."""
        try:
            return self._delivery(record)
        except DeadLetterError as exc:
            await self.dead_letters.send(record, exc.envelope, exc.reason, exc.error, attempts=exc.attempts)
            return "dead_lettered"

    def _delivery(self, record: ConsumerRecord[bytes, bytes]) -> Delivery | str:
        """What to apply for ``record``, or ``"ignored"``; raises ``DeadLetterError`` when it cannot be read."""
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
            raise DeadLetterError("unknown_type", str(exc), envelope=envelope) from None
        except InvalidEventData as exc:
            raise DeadLetterError("invalid_data", str(exc), envelope=envelope) from None
        entry = self.by_type.get(envelope.type)
        accepts = self.subscription.accepts
        if entry is None or (accepts is not None and not accepts(event)):
            EVENTS_CONSUMED.labels(self.service, self.group, envelope.type, "ignored").inc()
            return "ignored"
        return Delivery(record, envelope, event, entry[1])

    async def replay(self, session: AsyncSession, record: ConsumerRecord[bytes, bytes]) -> str:
        """Apply a dead-lettered record again in the caller's transaction, as a live one: decoded, through the inbox.

        Returns applied, duplicate (the group had applied it: nothing changes) or ignored (the group no
        longer takes it). Raises ``DeadLetterError`` when it fails again, leaving nothing of the attempt
        behind, and lets an outage (``is_transient``) through: that is no verdict on the event.
        """
        work = self._delivery(record)
        if isinstance(work, str):
            return work
        try:
            async with session.begin_nested():  # the handler's effect and its inbox row, or neither
                if not await record_in_inbox(session, self.group, [work.envelope]):
                    return "duplicate"
                await work.handler(session, work.event, self._context(work.envelope))
        except PERMANENT_ERRORS as exc:
            raise DeadLetterError("handler_rejected", f"{type(exc).__name__}: {exc}", envelope=work.envelope) from None
        except Exception as exc:
            if is_transient(exc):
                raise
            raise DeadLetterError("handler_failed", f"{type(exc).__name__}: {exc}", envelope=work.envelope) from None
        EVENTS_CONSUMED.labels(self.service, self.group, work.envelope.type, "replayed").inc()
        return "applied"

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

    async def _apply_one(self, work: Delivery) -> str:
        try:
            outcome = await self._apply_with_retries(work.envelope, work.event, work.handler)
        except DeadLetterError as exc:
            await self.dead_letters.send(work.record, work.envelope, exc.reason, exc.error, attempts=exc.attempts)
            return "dead_lettered"
        EVENTS_CONSUMED.labels(self.service, self.group, work.envelope.type, outcome).inc()
        return outcome

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
            if not await record_in_inbox(session, self.group, [envelope]):
                return "duplicate"
            await handler(session, event, self._context(envelope))
        return "applied"


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
