"""Messages in tests, seen as the notify service sees them: claimed by their claim URL, answered by outcome events.

A service under test delivers nothing itself: its messages are read the way notify reads them
(a ``notify:claim`` token on the claim URL), and what became of them is reported by publishing
the outcome events notify would publish.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from shared.bus.outbox import build_envelope
from shared.bus.packs import partition_key
from shared.events.catalogue.notifications import NotificationOutcome
from tests.support.stack import auth

CLAIM_SCOPE = "notify:claim"


def claim_headers(tenant: str) -> dict[str, str]:
    """The header of the notify service's claim token for ``tenant``."""
    return auth(tenant, CLAIM_SCOPE)


async def claim(client: httpx.AsyncClient, url: str, tenant: str) -> dict[str, Any]:
    """Claim a message as notify does (scope ``notify:claim``): the contract's JSON, asserting 200."""
    response = await client.get(url, headers=claim_headers(tenant))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def report_outcome(bootstrap: str, topic: str, event: NotificationOutcome, tenant: str) -> None:
    """Publish an outcome on ``topic`` (the prefixed ``privops.notifications.outcomes``) as notify would.

    Keyed and addressed by the notification id, as notify's relay does, so a message's outcomes stay in order.
    """
    subject = str(event.notification_id)
    envelope = build_envelope(event, source="/privops/notify", tenant_id=tenant, subject=subject, now=datetime.now(UTC))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            topic,
            envelope.data_bytes(),
            key=partition_key(tenant, subject).encode(),
            headers=envelope.to_kafka_headers(),
        )
    finally:
        await producer.stop()
