"""A correlation id given over HTTP travels with the event through Kafka."""

from __future__ import annotations

import pytest

from shared.events.envelope import CloudEvent
from shared.events.topics import CONSENT_EVENTS
from tests.support.stack import Infra, auth, read_topic, run_service

pytestmark = pytest.mark.integration


async def test_correlation_id_and_trace_travel_from_http_to_the_event(infra: Infra, topic_prefix: str) -> None:
    settings = infra.settings("consent", infra.fresh_database("consent"), topic_prefix)
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    async with run_service("consent", settings) as consent:
        purpose = {"key": "analytics", "name": "Analytics", "lawful_basis": "consent"}
        created = await consent.client.post("/v1/purposes", json=purpose, headers=auth("acme", "consent:admin"))
        assert created.status_code == 201, created.text
        response = await consent.client.post(
            "/v1/consents",
            json={"subject": {"kind": "user_id", "value": "u-1"}, "purpose": "analytics", "decision": "granted"},
            headers=auth("acme", "consent:write") | {"x-correlation-id": "req-123", "traceparent": traceparent},
        )
        assert response.status_code == 201
        assert response.headers["x-correlation-id"] == "req-123"
        records = await read_topic(infra.broker.bootstrap, settings.topic(CONSENT_EVENTS), expect=1)
    envelope = CloudEvent.from_kafka(records[0].headers, records[0].value)
    assert envelope.correlationid == "req-123"
    assert envelope.traceparent is not None
    assert envelope.traceparent.split("-")[1] == "4bf92f3577b34da6a3ce929d0e0e4736"  # same trace, new span
    assert envelope.traceparent != traceparent
