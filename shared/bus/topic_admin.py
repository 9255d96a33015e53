"""Creating topics: at a service's start, and again after a memory-only broker lost its log.

A broker that restarted empty lists no topic. Producing into a topic it does not list, and having
a service create that topic later, makes the dev broker (Tansu) reset the partition's watermarks,
so later produces collide with records already written. Whoever notices a loss therefore creates
the topics it reads and writes at once, before producing into them.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.events.catalogue import load_all

log = structlog.get_logger("privops.kafka")
TOPIC_PARTITIONS = 4


def produced_topics(producer: str) -> set[str]:
    """Topics ``producer`` (a service name, or ``store``) publishes to, according to the catalogue."""
    return {event.topic for event in load_all().values() if event.producer in (producer, "any")}


async def create_missing_topics(
    bootstrap_servers: str, names: Iterable[str], partitions: int = TOPIC_PARTITIONS
) -> list[str]:
    """Create those of ``names`` (full topic names) the broker does not list; return the ones created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = sorted(set(names) - existing)
        if missing:
            await admin.create_topics([NewTopic(t, partitions, 1) for t in missing])
            log.info("kafka.topics_created", topics=missing)
        return missing
    finally:
        await admin.close()
