"""The store-side worker: subscribes to DSAR tasks and retention sweeps for one system and answers them.

A product team writes a ``Store`` and runs ``TaskWorker(store, config, registration).run()``; the
worker registers the system in the DSAR registry, consumes ``privops.dsar.tasks`` (and
``privops.retention.sweeps`` when the store implements ``sweep`` or ``sweep_subjects``: sweeps of a
category past its cut-off, and sweeps of named people) in its own consumer group,
keeps only the events addressed to its system, claims identifiers over HTTP, uploads exports,
and publishes the answer as a CloudEvent (binary mode). Handled ids are kept in a local ledger so
a redelivered task is answered again without being carried out twice.

Broker loss (``broker_epoch`` on, for a memory-only broker that restarts): the worker keeps an
epoch marker on ``privops.heartbeat`` (``shared.bus.broker_epoch``). When the broker lost it, the
worker reads its partitions again from the beginning (the ledger makes that harmless) and re-sends
every answer it published since its marker's ``since``, with the same event id (the DSAR inbox
drops copies). A worker that starts on a broker without its marker re-sends the answers of the last
``RESEND_WINDOW``. A position beyond a partition's end is rewound too.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from sdk.actions import TaskRunner
from sdk.client import TokenSource
from sdk.config import WorkerConfig
from sdk.ledger import Answer, Ledger
from sdk.registration import register, tokens_of
from sdk.store import Store, SubjectSweep, Sweep, SweepCounts, SystemRegistration
from sdk.tenant_actions import ContractEndRunner, redo
from shared.bus.broker_epoch import HEARTBEAT_TOPIC, EpochMarker, RewindGuard
from shared.bus.topic_admin import create_missing_topics, produced_topics
from shared.events import topics
from shared.events.catalogue import Event, decode, load_all
from shared.events.catalogue.contract_ends import ContractEndTaskRequested
from shared.events.catalogue.dsar import DsarTaskFailed, DsarTaskRequested
from shared.events.catalogue.retention import (
    RetentionSubjectSweepRequested,
    RetentionSweepCompleted,
    RetentionSweepRequested,
)
from shared.events.envelope import CloudEvent

log = structlog.get_logger("privops.sdk.worker")
# Answers re-sent by a worker that finds no marker of its own on the broker (as long as the outbox keeps rows).
RESEND_WINDOW = timedelta(days=7)
ANSWER_ID_NAMESPACE = uuid.UUID("6f1d3c2e-7a57-4f0e-9a59-8d1c0b4a2e11")
MAX_PUBLISH_BACKOFF_S = 10.0


class TaskWorker:
    """Answers one system's DSAR tasks and retention sweeps."""

    def __init__(self, store: Store, config: WorkerConfig, registration: SystemRegistration | None = None) -> None:
        self.store = store
        self.config = config
        self.registration = registration
        self.tokens: TokenSource = tokens_of(config)
        self.ledger = Ledger(config.ledger_path)
        self.ready = asyncio.Event()
        self._stopping = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._http: httpx.AsyncClient | None = None
        self.guard: RewindGuard | None = None
        self.resent = 0  # answers re-sent after broker losses or failed publishes
        self._since = datetime.now(UTC)  # every answer published since then is in the broker's log
        self._advance_to: datetime | None = None  # the next ``since``, once the answers a loss took are re-sent
        self._retry_at = 0.0  # loop time of the next attempt at publishing the ledger's unpublished answers
        self._backoff = 0.0

    def stop(self) -> None:
        """Finish the current batch and return from ``run``."""
        self._stopping.set()

    async def register(self, attempts: int = 30) -> None:
        """Register the system in the DSAR registry for every tenant (``sdk.registration``)."""
        if self.registration is not None and self.config.dsar_url:
            await register(self.store, self.config, self.tokens, self.registration, attempts)

    def topics(self) -> list[str]:
        """The topics this store reads."""
        names = [topics.DSAR_TASKS]
        if self.store.overrides("sweep") or self.store.overrides("sweep_subjects"):
            names.append(topics.RETENTION_SWEEPS)
        return [self.config.topic(n) for n in names]

    async def run(self) -> None:
        """Register, then consume until ``stop()``; offsets are committed after each answered batch."""
        cfg = self.config
        self._http = httpx.AsyncClient(timeout=cfg.http_timeout_s)
        self._producer = AIOKafkaProducer(
            bootstrap_servers=cfg.bootstrap_servers, acks="all", enable_idempotence=False, linger_ms=5
        )
        consumer = AIOKafkaConsumer(
            bootstrap_servers=cfg.bootstrap_servers,
            group_id=cfg.group_id,
            client_id=f"store-{cfg.system}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=cfg.session_timeout_ms,
            heartbeat_interval_ms=max(300, cfg.session_timeout_ms // 3),
            request_timeout_ms=max(40_000, cfg.session_timeout_ms + 5_000),
        )
        epoch = (
            EpochMarker(self._producer, cfg.bootstrap_servers, cfg.topic(HEARTBEAT_TOPIC), f"store:{cfg.system}")
            if cfg.broker_epoch
            else None
        )
        self.guard = guard = RewindGuard(epoch, cfg.group_id, on_loss=self._on_broker_lost)
        try:
            await self._producer.start()
            await self.register()
            await consumer.start()
            consumer.subscribe(self.topics(), listener=guard.listener(consumer))
            if epoch is not None:
                await self._create_topics()
                await self._secure_epoch(epoch)
            log.info("store.started", system=cfg.system, topics=self.topics(), group=cfg.group_id)
            while not self._stopping.is_set():
                # A marker placed on a loss keeps the old ``since`` until everything since then was re-sent.
                await guard.check_broker(consumer, since=self._since)
                batches = await consumer.getmany(timeout_ms=500, max_records=100)
                if consumer.assignment():
                    self.ready.set()
                await self.handle_many([record for records in batches.values() for record in records])
                offsets = {tp: records[-1].offset + 1 for tp, records in batches.items() if records}
                # Commit only into the log the records came from (see ``RewindGuard.may_commit``).
                if offsets and await guard.may_commit(consumer, since=self._since):
                    await self._commit(consumer, offsets)
                await self.publish_pending()
                await guard.check_positions(consumer)
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()
            await guard.close()
            await self._producer.stop()
            await self._http.aclose()
            self.ledger.close()

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        """Commit offsets; a failure (the group rebalanced, the broker is away) only means records come again."""
        try:
            await consumer.commit(offsets)
        except (KafkaError, OSError, TimeoutError) as exc:  # the ledger makes a redelivered record harmless
            log.warning("store.commit_failed", system=self.config.system, error=str(exc) or type(exc).__name__)

    async def _on_broker_lost(self) -> None:
        """The broker lost its log: note in the ledger what to re-send (before any new marker), recreate our topics."""
        detected = datetime.now(UTC)
        flagged = await self.ledger.unpublish_since(self._since)
        log.warning("store.broker_lost", system=self.config.system, answers_to_resend=flagged)
        self._advance_to = detected
        self._retry_at = 0.0
        await self._create_topics()

    async def _create_topics(self) -> None:
        """Create the topics we read and write, before producing into them (see ``shared.bus.topic_admin``)."""
        names = set(self.topics()) | {self.config.topic(t) for t in produced_topics("store")}
        try:
            await create_missing_topics(self.config.bootstrap_servers, names)
        except Exception as exc:  # the broker is away: the next loss check or publish tries again
            log.warning("store.topics_not_created", system=self.config.system, error=str(exc) or type(exc).__name__)

    async def _secure_epoch(self, epoch: EpochMarker) -> None:
        """At start: adopt our predecessor's marker, or re-send recent answers the broker may have lost."""
        assert self.guard is not None
        started = datetime.now(UTC)
        try:
            previous = await epoch.find_latest()
        except Exception as exc:  # the broker is not answering: the periodic check places the marker
            log.warning("store.epoch_unknown", system=self.config.system, error=str(exc) or type(exc).__name__)
            return
        if previous is not None:
            self._since = previous.since or started
        else:
            # Noted in the ledger before the marker is placed: a crash in between still re-sends them.
            await self.ledger.unpublish_since(started - RESEND_WINDOW)
            self._since = started
        await self.publish_pending()
        await self.guard.place_marker(self._since)

    async def publish_pending(self) -> int:
        """Publish every answer the ledger holds as unpublished (backing off after a failure); return how many.

        Once none is left after a broker loss, the epoch marker moves on to the time the loss was found.
        """
        loop = asyncio.get_running_loop()
        if loop.time() < self._retry_at:
            return 0
        sent = 0
        try:
            for answer in await self.ledger.unpublished():
                await self._publish(answer, answer.attempt)
                sent += 1
        except Exception as exc:  # kept unpublished in the ledger: tried again after the backoff
            self._backoff = min(max(self._backoff * 2, self.config.retry_backoff_s), MAX_PUBLISH_BACKOFF_S)
            self._retry_at = loop.time() + self._backoff
            log.warning(
                "store.publish_failed",
                system=self.config.system,
                retry_in_s=self._backoff,
                error=str(exc) or type(exc).__name__,
            )
            return sent
        finally:
            self.resent += sent
            if sent:
                log.warning("store.answers_resent", system=self.config.system, answers=sent)
        self._backoff, self._retry_at = 0.0, 0.0
        if self._advance_to is not None and self.guard is not None:
            self._since, self._advance_to = self._advance_to, None
            await self.guard.place_marker(self._since)
        return sent

    async def handle_many(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """Answer a poll's records: one subject's in order, different subjects' side by side.

        Records of one key (the tenant and subject) form a chain handled in order; up to
        ``config.concurrency`` chains run at once, so a task's claim check and answer overlap with
        another subject's instead of queueing behind it.
        """
        chains: dict[tuple[str, int, bytes | None], list[ConsumerRecord[bytes, bytes]]] = {}
        for record in records:
            chains.setdefault((record.topic, record.partition, record.key), []).append(record)
        limit = asyncio.Semaphore(self.config.concurrency)

        async def chain(listed: list[ConsumerRecord[bytes, bytes]]) -> None:
            async with limit:
                for record in listed:
                    await self.handle(record)

        await asyncio.gather(*(chain(listed) for listed in chains.values()))

    async def handle(self, record: ConsumerRecord[bytes, bytes]) -> str:
        """Answer one record; return what happened (ignored, duplicate, answered, closed, skipped)."""
        try:
            envelope = CloudEvent.from_kafka(record.headers, record.value)
            event = decode(envelope)
        except Exception as exc:  # a record we cannot read is not ours to answer
            log.warning("store.unreadable_record", system=self.config.system, error=str(exc)[:300])
            return "skipped"
        if getattr(event, "system", None) != self.config.system:
            return "ignored"
        if self.config.tenants and envelope.tenantid not in self.config.tenants:
            return "ignored"
        if isinstance(event, DsarTaskRequested):
            return await self._on_task(envelope.tenantid, event)
        if isinstance(event, RetentionSweepRequested | RetentionSubjectSweepRequested):
            return await self._on_sweep(envelope.tenantid, event)
        if isinstance(event, ContractEndTaskRequested):
            return await self._on_contract_end(envelope.tenantid, event)
        return "ignored"

    async def _on_contract_end(self, tenant: str, event: ContractEndTaskRequested) -> str:
        """A contract-end task: done once (the ledger; a failure is tried again when re-published)."""
        item = str(event.task_id)
        known = await self.ledger.get("contract-end", item)
        if known is not None and not redo(known, event.attempt):
            if not known.published or event.attempt > known.attempt:
                await self._try_publish(known, max(event.attempt, known.attempt))
            return "duplicate"
        assert self._http is not None
        answer = await ContractEndRunner(self.store, self.config, self.tokens, self._http).run(tenant, event)
        return await self._answer("contract-end", item, tenant, event.attempt, str(event.contract_end_id), answer)

    async def _on_task(self, tenant: str, event: DsarTaskRequested) -> str:
        item = str(event.task_id)
        known = await self.ledger.get("task", item)
        retry = known is not None and _retryable_failure(known) and event.attempt > known.attempt
        if known is not None and not retry:
            # A re-publication means the DSAR service did not get the answer: send it again.
            if known.event_type and (not known.published or event.attempt > known.attempt):
                await self._try_publish(known, event.attempt)
            return "duplicate"
        assert self._http is not None
        answer = await TaskRunner(self.store, self.config, self.tokens, self._http).run(tenant, event)
        if answer is None:
            await self.ledger.record(Answer("task", item, tenant, event.attempt, None, None, None, None, True))
            return "closed"
        return await self._answer("task", item, tenant, event.attempt, event.subject_ref, answer)

    async def _on_sweep(self, tenant: str, event: RetentionSweepRequested | RetentionSubjectSweepRequested) -> str:
        item = str(event.sweep_id)
        known = await self.ledger.get("sweep", item)
        if known is not None:
            # A re-publication (a subject sweep's ``attempt``) means retention did not get the answer.
            attempt = getattr(event, "attempt", known.attempt)
            if not known.published or attempt > known.attempt:
                await self._try_publish(known, max(attempt, known.attempt))
            return "duplicate"
        try:
            counts = await self._sweep(tenant, event)
        except Exception as exc:
            # No answer: the retention service re-sends the sweep and escalates after its last try.
            log.error("store.sweep_failed", system=self.config.system, sweep_id=item, error=str(exc)[:300])
            return "failed"
        if counts is None:
            return "unsupported"
        completed = RetentionSweepCompleted(
            sweep_id=event.sweep_id,
            system=self.config.system,
            category=event.category,
            deleted=counts.deleted,
            anonymised=counts.anonymised,
            archived=counts.archived,
            skipped_held=counts.skipped_held,
            completed_at=datetime.now(UTC),
            detail=counts.detail,
        )
        return await self._answer("sweep", item, tenant, getattr(event, "attempt", 1), item, completed)

    async def _sweep(
        self, tenant: str, event: RetentionSweepRequested | RetentionSubjectSweepRequested
    ) -> SweepCounts | None:
        """What the store did; None when it cannot do this kind of sweep (retention escalates it to a person)."""
        if isinstance(event, RetentionSubjectSweepRequested):
            if not self.store.overrides("sweep_subjects"):
                log.warning("store.subject_sweep_unsupported", system=self.config.system, sweep_id=str(event.sweep_id))
                return None
            return await self.store.sweep_subjects(
                SubjectSweep(event.category, event.action, tuple(event.subject_refs), event.purpose, tenant)
            )
        if not self.store.overrides("sweep"):
            return None
        return await self.store.sweep(
            Sweep(
                event.category,
                event.cutoff,
                event.action,
                tuple(event.held_subject_refs),
                tuple(event.held_matters),
                tenant,
            )
        )

    async def _answer(self, kind: str, item: str, tenant: str, attempt: int, subject: str, event: Event) -> str:
        answer = Answer(
            kind, item, tenant, attempt, event.event_type, event.topic, subject, event.model_dump(mode="json"), False
        )
        await self.ledger.record(answer)  # before publishing: a crash in between re-sends, never re-does
        await self._try_publish(answer, attempt)
        return "answered"

    async def _try_publish(self, answer: Answer, attempt: int) -> bool:
        """Publish now; on failure the answer stays unpublished in the ledger and ``publish_pending`` retries it."""
        try:
            await self._publish(answer, attempt)
        except Exception as exc:
            log.warning(
                "store.publish_deferred",
                system=self.config.system,
                item=answer.item_id,
                error=str(exc) or type(exc).__name__,
            )
            return False
        return True

    async def _publish(self, answer: Answer, attempt: int) -> None:
        assert self._producer is not None
        assert answer.event_type
        assert answer.topic
        assert answer.data is not None
        envelope = CloudEvent(
            # The same id for the same answer: a copy re-sent after a broker loss is dropped by the inbox.
            id=str(uuid.uuid5(ANSWER_ID_NAMESPACE, f"{answer.kind}:{answer.item_id}:{attempt}")),
            type=answer.event_type,
            source=f"/stores/{self.config.system}",
            tenantid=answer.tenant,
            subject=answer.subject,
            time=datetime.now(UTC),
            data=answer.data,
            dataschema=load_all()[answer.event_type].dataschema(),
        )
        await self._producer.send_and_wait(
            self.config.topic(answer.topic),
            value=envelope.data_bytes(),
            key=f"{answer.tenant}:{answer.subject}".encode(),
            headers=envelope.to_kafka_headers(),
        )
        await self.ledger.mark_published(answer.kind, answer.item_id, attempt)


def _retryable_failure(answer: Answer) -> bool:
    """A failure the DSAR service will re-publish: carry the task out again rather than repeat the failure."""
    return answer.event_type == DsarTaskFailed.event_type and bool((answer.data or {}).get("retryable"))
