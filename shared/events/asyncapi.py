"""The AsyncAPI 3.0 document and JSON Schemas, generated from the event catalogue.

A store's team subscribes from these files without reading our code; a test keeps them current.
"""

from __future__ import annotations

import json
from typing import Any

from shared.events.catalogue import Event, load_all
from shared.events.topics import TOPIC_DESCRIPTIONS

CE_HEADERS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 binary content mode: context attributes as ce_ headers",
    "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_tenantid", "content-type"],
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "description": "Unique event id (UUID); consumers deduplicate on it"},
        "ce_source": {"type": "string", "description": "Producing service, e.g. /privops/consent"},
        "ce_type": {"type": "string"},
        "ce_subject": {"type": "string", "description": "Subject reference (keyed hash) or aggregate id"},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_dataschema": {"type": "string", "format": "uri", "description": "Names the data version (…/vN.json)"},
        "ce_tenantid": {"type": "string", "description": "Tenant (controller) the event belongs to"},
        "ce_traceparent": {"type": "string", "description": "W3C trace context"},
        "ce_correlationid": {"type": "string", "description": "Correlation id of the request that caused it"},
        "content-type": {"type": "string", "const": "application/json"},
    },
}


def _message_name(event: type[Event]) -> str:
    return event.event_type.removeprefix("io.privops.").replace(".", "_")


def _inline(value: Any, defs: dict[str, Any]) -> Any:
    """``value`` with each ``#/$defs/X`` reference replaced by X itself (a payload inside AsyncAPI has no ``$defs``)."""
    if isinstance(value, dict):
        ref = value.get("$ref", "")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inline(item, defs) for key, item in value.items()}
    if isinstance(value, list):
        return [_inline(item, defs) for item in value]
    return value


def event_schema(event: type[Event]) -> dict[str, Any]:
    """The JSON Schema of one event's data (nested models written in place)."""
    schema = event.model_json_schema(mode="serialization")
    schema = _inline(schema, schema.pop("$defs", {}))
    schema["$id"] = event.dataschema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["description"] = event.summary()
    return schema


def build_asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every topic and event type."""
    catalogue = load_all()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    by_topic: dict[str, list[type[Event]]] = {}
    for event in catalogue.values():
        by_topic.setdefault(event.topic, []).append(event)
    for topic, events in sorted(by_topic.items()):
        channel_id = topic.replace(".", "_").replace("-", "_")
        channel_messages = {}
        for event in sorted(events, key=lambda e: e.event_type):
            name = _message_name(event)
            messages[name] = {
                "name": event.event_type,
                "title": event.__name__,
                "summary": event.summary(),
                "contentType": "application/json",
                "headers": CE_HEADERS_SCHEMA,
                "payload": event_schema(event),
                "bindings": {
                    "kafka": {
                        "key": {
                            "type": "string",
                            "description": f"tenant:<subject>, the subject being {event.keyed_by}",
                        }
                    }
                },
                "x-version": event.version,
                "x-producer": event.producer,
            }
            channel_messages[name] = {"$ref": f"#/components/messages/{name}"}
        channels[channel_id] = {
            "address": topic,
            "description": TOPIC_DESCRIPTIONS.get(topic, ""),
            "messages": channel_messages,
        }
        producers = sorted({e.producer for e in events})
        operations[f"publish_{channel_id}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": f"Published by: {', '.join(producers)}",
        }
        operations[f"consume_{channel_id}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": "Subscribe with a consumer group; deduplicate on ce_id; commit after your own commit",
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "privops events",
            "version": "1.0.0",
            "description": (
                "Every event is a CloudEvent 1.0 in Kafka binary mode. Events carry subject references "
                "(keyed hashes), never raw personal data: fetch identifiers from the claim URL of a task."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {"host": "127.0.0.1:9092", "protocol": "kafka", "description": "privops up (Tansu broker)"},
            "production": {"host": "kafka:9092", "protocol": "kafka", "description": "Apache Kafka (KRaft)"},
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def render_files() -> dict[str, str]:
    """Every generated documentation file, by path relative to ``docs/``."""
    files = {"asyncapi.json": _dump(build_asyncapi())}
    for event in load_all().values():
        files[f"events/{event.event_type}.v{event.version}.schema.json"] = _dump(event_schema(event))
    return files
