"""The bench's topic tally against the real broker: counted after the clock stopped, not while it runs."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaProducer

from bench.scenarios._infra import TopicTally
from tests.support.stack import Infra

pytestmark = pytest.mark.integration


async def test_a_tally_that_does_not_follow_reads_nothing_until_it_catches_up(infra: Infra, topic_prefix: str) -> None:
    topic = f"{topic_prefix}bench.tally"
    producer = AIOKafkaProducer(bootstrap_servers=infra.broker.bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"before: not counted, ours")
        async with TopicTally(infra.broker.bootstrap, topic, lambda value: int(b"ours" in value), follow=False) as t:
            for value in (b"ours 1", b"other", b"ours 2", b"other", b"ours 3"):
                await producer.send_and_wait(topic, value, partition=0)
            await asyncio.sleep(1.0)
            assert t.records == 0  # nothing read while the clock runs
            assert await t.catch_up(timeout_s=15)
            assert (t.records, t.items) == (3, 3)
    finally:
        await producer.stop()
