"""Broker-loss detection: epoch markers on ``privops.heartbeat``.

A memory-only broker (the local Tansu) that restarts comes back empty: every topic, message,
consumer group and committed offset is gone; producers carry on at once, and consumers keep
their old positions and silently skip new messages until the new log passes them. Nothing in the
Kafka protocol says that this happened, so a component that must know leaves a marker record on
partition 0 of the heartbeat topic and checks from time to time that the record is still at the
offset the broker gave it. The log ending before that offset, or another record sitting there,
is positive proof that the broker lost its log. An error (the broker is down) proves nothing: the
check answers "unknown" and is tried again.

Markers are small JSON records keyed by their owner (``relay:consent``, ``consumer:<group>``,
``store:crm``) and carry no personal data. ``since`` is the instant from which everything the
owner published is in this broker's log: a relay re-elected on the same broker adopts the
``since`` of its predecessor's marker, and after a loss ``since`` says what to replay.

All of this runs only with the ``broker_epoch`` setting (``<SVC>_BROKER_EPOCH``, and
``PRIVOPS_BROKER_EPOCH`` for the SDK worker): a real Kafka keeps its log across restarts, and
without the setting nothing reads or writes the heartbeat topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from prometheus_client import Counter

log = structlog.get_logger("privops.broker_epoch")

HEARTBEAT_TOPIC = "privops.heartbeat"
MARKER_HEADER = "privops-epoch-marker"
BROKER_LOSSES = Counter("privops_broker_log_losses_total", "Broker log losses detected (epoch marker gone)", ["owner"])
HEARTBEAT_PARTITION = 0


@dataclass(frozen=True)
class Marker:
    """A marker placed in the broker's log: whose it is, its id, its ``since`` and its offset."""

    owner: str
    marker_id: str
    since: datetime | None
    offset: int


class EpochMarker:
    """Places one owner's marker on the heartbeat topic and tells whether the broker still has it."""

    def __init__(
        self,
        producer: AIOKafkaProducer,
        bootstrap_servers: str,
        topic: str,
        owner: str,
        *,
        timeout_s: float = 5.0,
    ) -> None:
        self.producer = producer
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.owner = owner
        self.timeout_s = timeout_s
        self.marker: Marker | None = None
        self._partition = TopicPartition(topic, HEARTBEAT_PARTITION)
        self._consumer: AIOKafkaConsumer | None = None

    async def place(self, since: datetime | None) -> Marker:
        """Write a new marker (carrying ``since``) and remember where the broker put it."""
        await self._ensure_topic()
        marker_id = uuid.uuid4().hex
        body = {"owner": self.owner, "marker_id": marker_id, "since": since.isoformat() if since else None}
        async with asyncio.timeout(self.timeout_s * 3):
            metadata = await self.producer.send_and_wait(
                self.topic,
                value=json.dumps(body).encode(),
                key=self.owner.encode(),
                partition=HEARTBEAT_PARTITION,
                headers=[(MARKER_HEADER, b"1")],
            )
        self.marker = Marker(self.owner, marker_id, since, int(metadata.offset))
        log.info("broker.epoch_marker_placed", owner=self.owner, offset=self.marker.offset)
        return self.marker

    async def find_latest(self) -> Marker | None:
        """The newest marker of this owner still in the log (a predecessor's), or None."""
        async with asyncio.timeout(self.timeout_s * 3):
            consumer = await self._reader()
            tp = self._partition
            end = (await consumer.end_offsets([tp]))[tp]
            begin = (await consumer.beginning_offsets([tp]))[tp]
            latest: Marker | None = None
            if end <= begin:
                return None
            consumer.seek(tp, begin)
            position = begin
            while position < end:
                batch = await consumer.getmany(tp, timeout_ms=1000, max_records=500)
                records = batch.get(tp, [])
                if not records:
                    break
                for record in records:
                    found = _parse(record)
                    if found is not None and found.owner == self.owner:
                        latest = found
                    position = record.offset + 1
            return latest

    async def check(self) -> bool | None:
        """True when the marker is where it was put, False when the broker lost it, None when unknown."""
        marker = self.marker
        if marker is None:
            return None
        try:
            async with asyncio.timeout(self.timeout_s):
                consumer = await self._reader()
                tp = self._partition
                end = (await consumer.end_offsets([tp]))[tp]
                if end <= marker.offset:
                    return False
                begin = (await consumer.beginning_offsets([tp]))[tp]
                if begin > marker.offset:
                    return None  # trimmed by retention (a real Kafka): not a loss; the owner places a new one
                consumer.seek(tp, marker.offset)
                batch = await consumer.getmany(tp, timeout_ms=int(self.timeout_s * 500), max_records=1)
                records = batch.get(tp, [])
                if not records:
                    return None
                found = _parse(records[0])
                return records[0].offset == marker.offset and found is not None and found.marker_id == marker.marker_id
        except Exception as exc:  # the broker is down or restarting: nothing is proven
            log.debug("broker.epoch_check_failed", owner=self.owner, error=str(exc) or type(exc).__name__)
            await self._drop_reader()
            return None

    def lost(self) -> None:
        """Count a detected loss (metric) and log it."""
        BROKER_LOSSES.labels(self.owner).inc()
        log.warning("broker.log_lost", owner=self.owner, marker_offset=self.marker.offset if self.marker else None)

    async def close(self) -> None:
        """Stop the reading client."""
        await self._drop_reader()

    async def _reader(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap_servers,
                enable_auto_commit=False,
                client_id=f"epoch-{self.owner}",
                request_timeout_ms=int(self.timeout_s * 1000) + 1000,
                metadata_max_age_ms=5000,
            )
            await consumer.start()
            consumer.assign([self._partition])
            self._consumer = consumer
        return self._consumer

    async def _drop_reader(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            # Bounded: against a broker that is restarting, aiokafka's fetcher can keep retrying inside
            # ``stop()``, and the relay that checks the epoch would wait on it instead of publishing.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.timeout_s):
                    await consumer.stop()

    async def _ensure_topic(self) -> None:
        """One partition is enough; a broker that creates topics on first use makes it anyway."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers, request_timeout_ms=5000)
        with contextlib.suppress(Exception):
            await admin.start()
            try:
                if self.topic not in set(await admin.list_topics()):
                    await admin.create_topics([NewTopic(self.topic, 1, 1)])
            finally:
                await admin.close()


def _parse(record: ConsumerRecord[bytes, bytes]) -> Marker | None:
    try:
        body = json.loads(record.value or b"")
        since = datetime.fromisoformat(body["since"]) if body.get("since") else None
        return Marker(str(body["owner"]), str(body["marker_id"]), since, int(record.offset))
    except (ValueError, KeyError, TypeError):
        return None


# After a broker loss, partitions assigned within this many seconds are read again from the start:
# offsets committed to the new broker before the loss was noticed may be stale.
REWIND_WINDOW_S = 60.0


class RewindGuard:
    """Finds stale positions after a broker lost its log, and rewinds them (shared with the SDK worker).

    Without an ``epoch`` (the ``broker_epoch`` setting off) it only rewinds a position beyond its
    partition's end: no marker is placed or checked, and offsets are always committed.
    """

    def __init__(
        self,
        epoch: EpochMarker | None,
        name: str,
        check_interval_s: float = 2.0,
        on_loss: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.epoch = epoch
        self.name = name
        # Run after a loss is detected and before the new marker is placed (recreate topics, note what to re-send).
        self.on_loss = on_loss
        self.check_interval_s = check_interval_s
        self.rewinds = 0  # partitions read again from the start
        self.losses = 0  # broker losses detected
        self._lost_at: float | None = None
        self._last_check = 0.0

    def listener(self, consumer: AIOKafkaConsumer) -> ConsumerRebalanceListener:
        """A rebalance listener that rewinds partitions assigned soon after a loss."""
        guard = self

        class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
            async def on_partitions_revoked(self, revoked: Any) -> None:
                return None

            async def on_partitions_assigned(self, assigned: Any) -> None:
                if guard.recently_lost() and assigned:
                    await guard.rewind(consumer, list(assigned), "assigned_after_loss")

        return _Listener()

    def recently_lost(self) -> bool:
        """True within ``REWIND_WINDOW_S`` of a detected loss."""
        return self._lost_at is not None and asyncio.get_running_loop().time() - self._lost_at < REWIND_WINDOW_S

    async def rewind(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition], reason: str) -> None:
        """Read ``partitions`` again from the beginning."""
        if not partitions:
            return
        await consumer.seek_to_beginning(*partitions)
        self.rewinds += len(partitions)
        log.warning(
            "consumer.rewound",
            consumer=self.name,
            reason=reason,
            partitions=sorted(f"{tp.topic}[{tp.partition}]" for tp in partitions),
        )

    async def check_positions(self, consumer: AIOKafkaConsumer) -> dict[TopicPartition, tuple[int, int]]:
        """Rewind partitions whose position is beyond the log's end; return (position, end) of the others."""
        seen: dict[TopicPartition, tuple[int, int]] = {}
        beyond: list[TopicPartition] = []
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            if high is None:
                continue
            position = await consumer.position(tp)
            if position > high:
                beyond.append(tp)
            else:
                seen[tp] = (position, high)
        await self.rewind(consumer, beyond, "position_beyond_end")
        return seen

    async def check_broker(self, consumer: AIOKafkaConsumer, since: datetime | None = None) -> bool:
        """Every ``check_interval_s``: place the marker if needed; if the broker lost it, rewind everything.

        Returns True when a loss was detected; a new marker (carrying ``since``) is then placed.
        """
        epoch = self.epoch
        if epoch is None:
            return False
        now = asyncio.get_running_loop().time()
        if now - self._last_check < self.check_interval_s:
            return False
        self._last_check = now
        if epoch.marker is None:
            await self.place_marker(since)
            return False
        if await epoch.check() is not False:
            return False
        await self._handle_loss(consumer, since)
        return True

    async def may_commit(self, consumer: AIOKafkaConsumer, since: datetime | None = None) -> bool:
        """Check the marker before committing: offsets read from a lost log must not land in the new one.

        False when the broker lost its log (everything is rewound and a new marker placed) or when
        that cannot be told now; the records are then read again later, which the inbox makes harmless.
        """
        if self.epoch is None:
            return True
        state = await self.epoch.check()
        if state is False:
            await self._handle_loss(consumer, since)
        return state is True

    async def close(self) -> None:
        """Stop the epoch marker's reading client, if any."""
        if self.epoch is not None:
            await self.epoch.close()

    async def _handle_loss(self, consumer: AIOKafkaConsumer, since: datetime | None) -> None:
        assert self.epoch is not None
        self.epoch.lost()
        self.losses += 1
        self._lost_at = asyncio.get_running_loop().time()
        await self.rewind(consumer, list(consumer.assignment()), "broker_lost")
        if self.on_loss is not None:
            await self.on_loss()
        await self.place_marker(since)

    async def place_marker(self, since: datetime | None) -> None:
        """Place a new epoch marker; a failure is logged and retried at the next check."""
        if self.epoch is None:
            return
        try:
            await self.epoch.place(since)
        except Exception as exc:
            self.epoch.marker = None
            log.warning("consumer.epoch_marker_failed", consumer=self.name, error=str(exc) or type(exc).__name__)
