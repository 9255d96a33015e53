"""The outbox relay: publishes staged events in id order; one active relay per service database.

It is elected with a PostgreSQL advisory lock, woken by NOTIFY, marks events published only after
the broker acknowledged them, and, with ``broker_epoch`` on, re-sends what a broker lost with its
log (heartbeat markers).
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy import bindparam, func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from shared.bus.broker_epoch import HEARTBEAT_TOPIC, EpochMarker
from shared.bus.outbox import (
    EPOCH_START,
    EVENTS_OF_ROW,
    MARK_PUBLISHED,
    NOTIFY_CHANNEL,
    OUTBOX_TABLE,
    OutboxMessage,
    replay_published_since,
)
from shared.bus.packs import OutgoingEvent, unpack
from shared.bus.partitioner import LANES_FROM, murmur2, murmur2_many
from shared.bus.topic_admin import create_missing_topics, produced_topics
from shared.runtime.db import Database
from shared.runtime.metrics import OUTBOX_BACKLOG, OUTBOX_ERRORS, OUTBOX_OLDEST_AGE, OUTBOX_PUBLISHED, RELAY_ACTIVE
from shared.runtime.settings import ServiceSettings

__all__ = ["LANES_FROM", "NEXT_BATCH", "OutboxRelay", "murmur2", "murmur2_many", "relay_lock_key"]

log = structlog.get_logger("privops.outbox")
YIELD_EVERY = 1000  # messages queued between two chances for other tasks to run

_COLUMNS = OUTBOX_TABLE.c
_OLDEST = (
    sa_select(_COLUMNS.id, _COLUMNS.event_id, _COLUMNS.topic, _COLUMNS.key, _COLUMNS.event_type, _COLUMNS.headers)
    .add_columns(_COLUMNS.payload, EVENTS_OF_ROW.label("events"))
    .where(_COLUMNS.published_at.is_(None))
    .order_by(_COLUMNS.id)
    .limit(bindparam("events"))  # never more rows than events wanted
    .subquery()
)
_RUNNING = sa_select(
    _OLDEST, func.sum(_OLDEST.c.events).over(order_by=_OLDEST.c.id).label("upto"), func.count().over().label("read")
).subquery()
# The oldest unpublished rows holding at most ``events`` events (the first row always, however many it holds);
# the running sum is taken after the LIMIT, so a large backlog is never scanned.
NEXT_BATCH = (
    sa_select(*(c for c in _RUNNING.c if c.name not in ("events", "upto")))  # "read": rows before the budget
    .where(or_(_RUNNING.c.upto <= bindparam("events"), _RUNNING.c.upto == _RUNNING.c.events))
    .order_by(_RUNNING.c.id)
)


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
        self.epoch = (
            EpochMarker(
                producer, settings.kafka_bootstrap_servers, settings.topic(HEARTBEAT_TOPIC), f"relay:{self.service}"
            )
            if settings.broker_epoch
            else None
        )
        self.replayed = 0  # events marked for re-sending after broker losses, since this relay was built
        self.more = False  # the last batch left unpublished rows behind (it was full): no pause before the next
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
            if self.epoch is not None:
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
                    await self.publish_batch()
                    if self.epoch is not None and loop.time() - last_check > self.epoch_check_interval_s:
                        await self.verify_broker()
                        last_check = loop.time()
                    if loop.time() - last_metrics > 5.0:
                        await self.refresh_metrics()
                        last_metrics = loop.time()
                    if not self.more:
                        await self._sleep(self.poll_interval_s)
            finally:
                await driver.remove_listener(NOTIFY_CHANNEL, on_notify)
                await lock_conn.execute(sa_select(func.pg_advisory_unlock(key)))
                await lock_conn.commit()

    async def secure_epoch(self) -> None:
        """On election: make sure the broker holds what was published, else have it re-sent (``broker_epoch``)."""
        if self.epoch is None:
            return
        if self.epoch.marker is not None:  # re-elected in this process: is our marker still there?
            await self.verify_broker()
            return
        previous = await self.epoch.find_latest()
        if previous is not None and previous.since is not None:
            await self.epoch.place(previous.since)  # same broker log as our predecessor: nothing lost
            return
        await self.replay_since(EPOCH_START)

    async def verify_broker(self) -> bool | None:
        """Check the epoch marker; if the broker lost its log, re-send what it held. None: unknown (or no epoch)."""
        epoch = self.epoch
        if epoch is None:
            return None
        state = await epoch.check()
        if state is False and epoch.marker is not None:
            epoch.lost()
            await self.recreate_topics()  # before producing into a broker that lists none of them
            await self.replay_since(epoch.marker.since or EPOCH_START)
        return state

    async def recreate_topics(self) -> None:
        """Create the topics this service publishes to (``shared.bus.topic_admin``); a failure is logged."""
        names = {self.settings.topic(t) for t in produced_topics(self.service)}
        try:
            await create_missing_topics(self.settings.kafka_bootstrap_servers, names)
        except Exception as exc:  # publishing fails and is retried; the topics are created on the next loss check
            log.warning("outbox.topics_not_created", service=self.service, error=str(exc) or type(exc).__name__)

    async def replay_since(self, since: datetime) -> int:
        """Mark rows published since ``since`` as unpublished (and place a new epoch marker); return the count."""
        async with self.database.session() as session:
            # The transaction's start: every row published from now on gets a later ``published_at``.
            now = (await session.exec(select(func.now()))).one()
            count = await replay_published_since(session, since)
        self.replayed += count
        report = log.warning if count else log.info
        report("outbox.replay", service=self.service, since=since.isoformat(), events=count)
        if self.epoch is not None:
            await self.epoch.place(now)
        self._wake.set()
        return count

    async def publish_batch(self) -> int:
        """Publish the oldest unpublished events; mark the acknowledged prefix of rows as published.

        Rows are read in id order up to ``batch_size`` events (a packed row counts its events); a
        packed row is published when every event it carries was acknowledged.
        """
        async with self.database.session() as session:
            connection = await session.connection()
            rows = (await connection.execute(NEXT_BATCH, {"events": self.batch_size})).all()
            # Full when rows were left out for the budget, or the read itself was cut at ``batch_size`` rows.
            self.more = bool(rows) and (rows[0].read > len(rows) or rows[0].read >= self.batch_size)
            if not rows:
                return 0
            unpacked = [unpack(row) for row in rows]
            messages = [message for events in unpacked for message in events]
            futures = await self._send(messages)
            await asyncio.wait(set(futures))  # one wait for the whole batch; then read the results in order
            acked: list[int] = []
            sent = 0
            failure: BaseException | None = None
            results = iter(futures)
            for row, events in zip(rows, unpacked, strict=True):
                for _ in events:
                    failure = next(results).exception()
                    if failure is not None:
                        break  # keep order: this row and everything after it is sent again
                if failure is not None:
                    break
                acked.append(row.id)
                sent += len(events)
            for future in results:
                future.exception()  # retrieved, so that asyncio does not report it as never retrieved
            if acked:
                await connection.execute(MARK_PUBLISHED, {"ids": acked})
                OUTBOX_PUBLISHED.labels(self.service).inc(sent)
            if failure is not None:
                OUTBOX_ERRORS.labels(self.service).inc()
                failed = rows[len(acked)]
                await connection.execute(
                    update(OUTBOX_TABLE)
                    .where(OUTBOX_TABLE.c.id == failed.id)
                    .values(attempts=OUTBOX_TABLE.c.attempts + 1, last_error=str(failure)[:2000])
                )
                log.warning("outbox.publish_failed", event_id=str(failed.event_id), error=str(failure))
        if failure is not None:
            raise RuntimeError(f"publishing outbox event failed: {failure}")
        return sent

    async def _send(self, messages: Sequence[OutgoingEvent]) -> list[asyncio.Future[Any]]:
        """Queue ``messages`` as record batches, one partition at a time; return each message's batch future.

        Messages with the same key go to the same partition (the Kafka client's murmur2 partitioner) and
        keep their order in it. Filling batches directly costs a fraction of one ``send`` per message.
        """
        producer = self.producer
        by_partition: dict[tuple[str, int], list[int]] = {}
        # Read from the client's metadata for each batch, never kept: a broker that lost its log may
        # have re-created a topic with other partitions, and a failed send refreshes the metadata.
        known: dict[str, list[int]] = {}
        keys = [message.key.encode() for message in messages]
        for index, (message, hashed) in enumerate(zip(messages, murmur2_many(keys), strict=True)):
            if index % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)
            topic = self.settings.topic(message.topic)
            partitions = known.get(topic)
            if partitions is None:
                partitions = known[topic] = sorted(await producer.partitions_for(topic))
            partition = partitions[(hashed & 0x7FFFFFFF) % len(partitions)]
            by_partition.setdefault((topic, partition), []).append(index)
        futures: list[asyncio.Future[Any] | None] = [None] * len(messages)
        for (topic, partition), indexes in by_partition.items():
            batch, members = producer.create_batch(), list[int]()
            for count, index in enumerate(indexes, 1):
                if count % YIELD_EVERY == 0:
                    await asyncio.sleep(0)  # a large batch must not hold the event loop (API latency, role "all")
                message = messages[index]
                headers = message.kafka_headers
                key = keys[index]
                if batch.append(key=key, value=message.payload, timestamp=None, headers=headers) is None:
                    future = await producer.send_batch(batch, topic, partition=partition)  # full: queue it
                    for member in members:
                        futures[member] = future
                    batch, members = producer.create_batch(), []
                    if batch.append(key=key, value=message.payload, timestamp=None, headers=headers) is None:
                        raise ValueError(f"outbox event {message.event_id} is larger than a record batch")
                members.append(index)
            future = await producer.send_batch(batch, topic, partition=partition)
            for member in members:
                futures[member] = future
        return [f for f in futures if f is not None]

    async def refresh_metrics(self) -> tuple[int, float]:
        """Update the backlog gauges; return (backlog, age of the oldest unpublished event in seconds)."""
        async with self.database.session() as session:
            row = (
                await session.exec(
                    select(
                        func.coalesce(func.sum(EVENTS_OF_ROW), 0), func.min(OutboxMessage.created_at), func.now()
                    ).where(col(OutboxMessage.published_at).is_(None))
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
