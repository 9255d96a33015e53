"""A dead letter keeps the record as it came, so a replay reads exactly what the consumer read."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aiokafka import ConsumerRecord

from shared.bus.dead_letters import DeadLetterState, dead_letter_row
from shared.bus.outbox import build_envelope
from shared.events.catalogue.consent import ConsentWithdrawn
from shared.events.envelope import CloudEvent

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def envelope(tenant: str = "acme") -> CloudEvent:
    event = ConsentWithdrawn(
        consent_id=uuid.uuid4(), subject_ref="ref-1", purpose="newsletter", decision="withdrawn", occurred_at=NOW
    )
    return build_envelope(event, source="/privops/consent", tenant_id=tenant, subject="ref-1", now=NOW)


def record(value: bytes, headers: list[tuple[str, bytes]]) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord("privops.consent.events", 3, 41, 0, 0, b"acme:ref-1", value, None, 10, len(value), headers)


def test_the_row_gives_back_the_record_and_reads_the_envelope() -> None:
    sent = envelope()
    original = record(sent.data_bytes(), sent.to_kafka_headers())
    row = dead_letter_row(original, sent, "privops.retention.x", "handler_failed", "boom", attempts=3, now=NOW)
    assert (row.tenant_id, row.source, row.subject, row.event_type) == (
        "acme",
        "/privops/consent",
        "ref-1",
        ConsentWithdrawn.event_type,
    )
    assert (row.state, row.failed_at, row.last_failed_at, row.attempts) == (DeadLetterState.OPEN, NOW, NOW, 3)
    again = row.record()
    assert (again.topic, again.partition, again.offset, again.key) == ("privops.consent.events", 3, 41, b"acme:ref-1")
    assert CloudEvent.from_kafka(again.headers, again.value) == CloudEvent.from_kafka(original.headers, original.value)


def test_an_unreadable_or_untrustworthy_tenant_is_nobodys_but_an_operators() -> None:
    spoiled = record(b"{not json", envelope().to_kafka_headers())
    assert dead_letter_row(spoiled, None, "g", "malformed", "x", attempts=1, now=NOW).tenant_id is None
    odd = envelope(tenant="Not A Tenant!")
    row = dead_letter_row(record(odd.data_bytes(), odd.to_kafka_headers()), odd, "g", "x", "y", attempts=1, now=NOW)
    assert row.tenant_id is None


def test_a_record_too_large_to_keep_is_not_kept() -> None:
    sent = envelope()
    huge = record(b'{"pad": "' + b"x" * 1_000_001 + b'"}', sent.to_kafka_headers())
    assert dead_letter_row(huge, None, "g", "too_large", "x", attempts=1, now=NOW).value is None
