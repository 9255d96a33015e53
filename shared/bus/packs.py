"""Packed outbox rows: up to ``PACK_SIZE`` consecutive events of one topic in one row.

A pack's payload is LZ4-compressed (frame format: 0.2 ms for a pack of 500 events, against 1.5 ms
deflating it and about 5 µs per event for PostgreSQL's own pglz; half the raw size). Inside, one
JSON line holds what the events share (headers, trace) and what sets each apart (id, type, subject,
span); each event's payload follows, as is, on a line of its own (compact JSON holds no raw line
break). ``unpack`` gives back the events exactly as unpacked rows would carry them.
"""

from __future__ import annotations

import uuid
from typing import Any, NamedTuple

import lz4.frame
import orjson

from shared.events.catalogue import Event
from shared.runtime.db import new_id
from shared.runtime.logging import new_span_id, traceparent

PACKED_EVENT_TYPE = "privops.outbox.packed"
# A packed row's headers say how many events it carries.
PACK_COUNT_HEADER = "privops-packed-events"
PACK_SIZE = 500


class OutgoingEvent(NamedTuple):
    """One event as the relay sends it: from an outbox row, or one of a packed row's events."""

    event_id: str
    topic: str
    key: str
    kafka_headers: list[tuple[str, bytes]]
    payload: bytes

    @property
    def headers(self) -> dict[str, str]:
        """The CloudEvents headers as text."""
        return {k: v.decode() for k, v in self.kafka_headers}


def partition_key(tenant_id: str, subject: str | None) -> str:
    """Tenant plus subject reference (or aggregate id): everything about one person stays in order."""
    return f"{tenant_id}:{subject}" if subject else tenant_id


def packed_rows(
    pairs: list[tuple[Event, str | None]], ids: list[uuid.UUID], tenant_id: str, shared: dict[str, str], trace_id: str
) -> list[tuple[Any, ...]]:
    """Outbox rows (``OUTBOX_COLUMNS``, COPY-ready) packing runs of up to ``PACK_SIZE`` events of one topic."""
    rows: list[tuple[Any, ...]] = []
    types: dict[type[Event], int] = {}
    events: list[tuple[str, int, str | None, int]] = []
    payloads: list[bytes] = []
    topic = ""

    def close_pack() -> None:
        kinds = [[model.event_type, model.dataschema()] for model in types]
        meta = orjson.dumps({"headers": shared, "trace": trace_id, "types": kinds, "events": events})
        body = lz4.frame.compress(b"\n".join([meta, *payloads]))
        headers = orjson.dumps({PACK_COUNT_HEADER: str(len(events))}).decode()
        key = partition_key(tenant_id, events[0][2])
        rows.append((new_id(), tenant_id, topic, key, PACKED_EVENT_TYPE, headers, body))

    for (event, subject), event_id in zip(pairs, ids, strict=True):
        model = type(event)
        if events and (model.topic != topic or len(events) == PACK_SIZE):
            close_pack()
            types, events, payloads = {}, [], []
        topic = model.topic
        kind = types.get(model)
        if kind is None:
            kind = types[model] = len(types)
        events.append((str(event_id), kind, subject or None, new_span_id()))
        payloads.append(model.__pydantic_serializer__.to_json(event))
    if events:
        close_pack()
    return rows


def unpack(row: Any) -> list[OutgoingEvent]:
    """The events an outbox row carries (``topic``, ``key``, ``event_type``, ``headers``, ``payload`` columns)."""
    if row.event_type != PACKED_EVENT_TYPE:
        headers = [(k, v.encode()) for k, v in row.headers.items()]
        return [OutgoingEvent(str(row.event_id), row.topic, row.key, headers, row.payload)]
    meta, *payloads = lz4.frame.decompress(row.payload).split(b"\n")
    head = orjson.loads(meta)
    shared = [(k, v.encode()) for k, v in head["headers"].items()]  # encoded once for the whole pack
    tenant_id, trace = head["headers"]["ce_tenantid"], head["trace"]
    kinds = [(("ce_type", kind.encode()), ("ce_dataschema", schema.encode())) for kind, schema in head["types"]]
    topic = row.topic
    unpacked = []
    for (event_id, kind, subject, span), payload in zip(head["events"], payloads, strict=True):
        type_header, schema_header = kinds[kind]
        headers = [*shared, ("ce_id", event_id.encode()), type_header]
        if subject:
            headers.append(("ce_subject", subject.encode()))
        headers += (schema_header, ("ce_traceparent", traceparent(trace, span).encode()))
        unpacked.append(OutgoingEvent(event_id, topic, partition_key(tenant_id, subject), headers, payload))
    return unpacked
