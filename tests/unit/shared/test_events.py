"""The CloudEvents envelope, the catalogue, upcasting and the generated AsyncAPI document."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pytest

from shared.bus.outbox import build_envelope, partition_key
from shared.events.asyncapi import build_asyncapi, render_files
from shared.events.catalogue import CATALOGUE, Event, InvalidEventData, UnknownEventType, decode, load_all, upcaster
from shared.events.catalogue.consent import ConsentGranted
from shared.events.envelope import CloudEvent, EnvelopeError

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def granted() -> ConsentGranted:
    return ConsentGranted(
        consent_id=uuid.uuid4(), subject_ref="ref", purpose="newsletter", decision="granted", occurred_at=NOW
    )


def test_binary_mode_round_trip_keeps_every_attribute() -> None:
    envelope = build_envelope(granted(), source="/privops/consent", tenant_id="acme", subject="ref", now=NOW)
    headers = dict(envelope.to_kafka_headers())
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_type"] == b"io.privops.consent.granted"
    assert headers["ce_tenantid"] == b"acme"
    assert headers["content-type"] == b"application/json"
    assert headers["ce_traceparent"].startswith(b"00-")
    decoded = CloudEvent.from_kafka(envelope.to_kafka_headers(), envelope.data_bytes())
    assert decoded == envelope
    assert isinstance(decode(decoded), ConsentGranted)


def test_structured_mode_is_accepted() -> None:
    envelope = build_envelope(granted(), source="/privops/consent", tenant_id="acme", subject="ref", now=NOW)
    value = json.dumps(envelope.to_structured()).encode()
    decoded = CloudEvent.from_kafka([("content-type", b"application/cloudevents+json")], value)
    assert decoded.id == envelope.id
    assert decoded.data == envelope.data


@pytest.mark.parametrize(
    ("headers", "value", "message"),
    [
        ([("ce_id", b"1")], b"{}", "missing CloudEvents attribute"),
        ([], b"{}", "no ce_ headers"),
        ([("ce_id", b"1")], b"{nope", "not JSON"),
        ([("ce_id", b"1")], None, "tombstone"),
        (
            [(f"ce_{k}", v) for k, v in {"id": b"1", "source": b"s", "type": b"t", "specversion": b"0.3"}.items()],
            b"{}",
            "specversion",
        ),
        (
            [(f"ce_{k}", v) for k, v in {"id": b"1", "source": b"s", "type": b"t", "specversion": b"1.0"}.items()],
            b"{}",
            "tenantid",
        ),
        (
            [
                (f"ce_{k}", v)
                for k, v in {"id": b"1", "source": b"s", "type": b"t", "specversion": b"1.0", "tenantid": b"a"}.items()
            ],
            b"[1, 2]",
            "JSON object",
        ),
    ],
)
def test_malformed_records_are_rejected_with_a_reason(
    headers: list[tuple[str, bytes]], value: bytes | None, message: str
) -> None:
    with pytest.raises(EnvelopeError, match=message):
        CloudEvent.from_kafka(headers, value)


def test_unknown_type_and_bad_data_are_distinguished() -> None:
    envelope = build_envelope(granted(), source="/x", tenant_id="acme", subject=None, now=NOW)
    with pytest.raises(UnknownEventType):
        decode(CloudEvent(type="io.privops.unknown", source="/x", data={}, tenantid="a"))
    with pytest.raises(InvalidEventData, match="purpose"):
        decode(envelope.with_data({**envelope.data, "purpose": 42}))


def test_older_versions_are_upcast_before_validation() -> None:
    class Renamed(Event):
        """Sent when a test needs an event whose field was renamed in version 2."""

        event_type: ClassVar[str] = "io.privops.test.renamed"
        version: ClassVar[int] = 2
        topic: ClassVar[str] = "privops.test"
        producer: ClassVar[str] = "test"
        new_name: str

    @upcaster("io.privops.test.renamed", 1)
    def _v1_to_v2(data: dict[str, object]) -> dict[str, object]:
        return {"new_name": data["old_name"]}

    try:
        old = CloudEvent(
            type="io.privops.test.renamed",
            source="/x",
            tenantid="a",
            data={"old_name": "kept"},
            dataschema="https://privops.dev/schemas/events/io.privops.test.renamed/v1.json",
        )
        assert decode(old) == Renamed(new_name="kept")
        newer = CloudEvent(
            type=old.type, source="/x", tenantid="a", data={}, dataschema=old.dataschema.replace("v1", "v3")
        )
        with pytest.raises(InvalidEventData, match="newer"):
            decode(newer)
    finally:
        CATALOGUE.pop("io.privops.test.renamed", None)


def test_every_event_documents_when_it_is_sent_and_carries_no_raw_identifier_fields() -> None:
    for event_type, model in load_all().items():
        assert event_type.startswith("io.privops."), event_type
        assert model.summary().startswith("Sent "), event_type
        fields = set(model.model_fields)
        assert not fields & {"email", "phone", "name", "address", "identifiers"}, event_type


def test_partition_key_keeps_one_persons_events_together() -> None:
    assert partition_key("acme", "ref-1") == "acme:ref-1"
    assert partition_key("acme", None) == "acme"


def test_asyncapi_document_lists_every_event_and_is_current() -> None:
    document = build_asyncapi()
    assert document["asyncapi"] == "3.0.0"
    names = {m["name"] for m in document["components"]["messages"].values()}
    assert names == set(load_all())
    docs = Path(__file__).resolve().parents[3] / "docs"
    for path, content in render_files().items():
        assert (docs / path).read_text() == content, f"docs/{path} is stale: run `privops docs`"


def test_asyncapi_names_what_each_message_is_keyed_by() -> None:
    """The key is ``tenant:<subject>``; the subject is a person's reference, a system, a policy or an aggregate."""
    import json

    from shared.events.asyncapi import build_asyncapi

    messages = json.loads(json.dumps(build_asyncapi()))["components"]["messages"]
    keys = {m["name"]: m["bindings"]["kafka"]["key"]["description"] for m in messages.values()}
    assert "system key" in keys["io.privops.retention.sweep.requested"]
    assert "system key" in keys["io.privops.retention.subject-sweep.requested"]
    assert "policy id" in keys["io.privops.retention.policy.changed"]
    assert "incident id" in keys["io.privops.breach.reported"]
    assert "change id" in keys["io.privops.subprocessor.change.proposed"]
    assert "subject reference" in keys["io.privops.consent.withdrawn"]
