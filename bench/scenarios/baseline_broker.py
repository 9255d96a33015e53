"""Baseline: raw produce/consume throughput of the broker with aiokafka (100k × 300 B, acks=all).

The same client library, settings (acks=all, linger 5 ms) and broker as the services' outbox relay,
with nothing else in the way: the limit of the bus on this machine.
"""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.context import BenchContext
from bench.results import ScenarioResult

TITLE = "baseline: raw aiokafka produce/consume, 100k × 300 B, acks=all"
ORDER = 1
TIMEOUT_S = 120

MESSAGES = 100_000
PAYLOAD = b"x" * 300
PARTITIONS = 4  # as the services' topics
CONSUME_TIMEOUT_S = 60.0


async def run(ctx: BenchContext) -> ScenarioResult:
    """Produce 100k messages, then consume them in a fresh consumer group; time both."""
    assert ctx.stack is not None
    bootstrap = ctx.stack.bootstrap
    topic = f"bench.baseline.{ctx.run_id}"
    messages = MESSAGES // 4 if ctx.quick else MESSAGES
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
        produce_s = await _produce(bootstrap, topic, messages)
        join_s, consume_s, received = await _consume(bootstrap, topic, messages, ctx.run_id)
        await admin.delete_topics([topic])  # the broker keeps everything in memory
    finally:
        await admin.close()
    result = ScenarioResult("baseline_broker", TITLE)
    result.metrics += [
        ctx.compared("produce_rate", f"produce {messages:,} × 300 B", messages / produce_s, "msg/s", None),
        ctx.compared("consume_rate", "consume after first fetch", received / consume_s, "msg/s", None),
        ctx.compared("group_join", "consumer group join + first fetch", join_s, "s", None, higher_is_better=False),
        ctx.compared("received", "messages received", float(received), "msg", None),
    ]
    if received != messages:
        result.notes.append(f"only {received} of {messages} messages were consumed within {CONSUME_TIMEOUT_S:.0f} s")
    return result


async def _produce(bootstrap: str, topic: str, messages: int) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, enable_idempotence=False)
    await producer.start()
    try:
        begun = time.perf_counter()
        futures = [await producer.send(topic, PAYLOAD, key=str(i % 1000).encode()) for i in range(messages)]
        await asyncio.gather(*futures)
        return time.perf_counter() - begun
    finally:
        await producer.stop()


async def _consume(bootstrap: str, topic: str, messages: int, run_id: str) -> tuple[float, float, int]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-baseline-{run_id}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    begun = time.perf_counter()
    await consumer.start()
    received = 0
    first_fetch = None
    try:
        deadline = begun + CONSUME_TIMEOUT_S
        while received < messages and time.perf_counter() < deadline:
            batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
            got = sum(len(records) for records in batch.values())
            if got and first_fetch is None:
                first_fetch = time.perf_counter()
            received += got
    finally:
        end = time.perf_counter()
        await consumer.stop()
    first = first_fetch or end
    return first - begun, max(end - first, 1e-6), received
