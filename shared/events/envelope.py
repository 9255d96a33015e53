"""The CloudEvents 1.0 envelope, carried in Kafka's binary content mode (``ce_`` headers).

Binary mode keeps the event data as the record value and every context attribute as a
``ce_<name>`` header, so a store can route on headers without parsing JSON. Structured mode
(``content-type: application/cloudevents+json``) is accepted on input too.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import orjson

SPECVERSION = "1.0"
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"
JSON_CONTENT_TYPE = "application/json"
_EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")
_REQUIRED = ("id", "source", "specversion", "type")


# The binary-mode headers privops writes, by name as written: one lookup per header on every consumed event.
_ATTRIBUTE_HEADERS = {
    f"ce_{name}": name
    for name in (*_REQUIRED, "time", "subject", "dataschema", "tenantid", "traceparent", "correlationid")
}


@functools.lru_cache(maxsize=256)
def _schema_version(dataschema: str) -> int:
    match = re.search(r"/v(\d+)\.json$", dataschema)
    return int(match.group(1)) if match else 1


class EnvelopeError(ValueError):
    """A Kafka record is not a valid CloudEvent."""


@dataclass(frozen=True, slots=True)
class CloudEvent:
    """One event: CloudEvents context attributes, privops extensions and JSON data."""

    type: str
    source: str
    data: dict[str, Any]
    tenantid: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime | None = None
    subject: str | None = None
    dataschema: str | None = None
    datacontenttype: str = JSON_CONTENT_TYPE
    traceparent: str | None = None
    correlationid: str | None = None
    specversion: str = SPECVERSION

    def attributes(self) -> dict[str, str]:
        """Context attributes as strings (everything but ``data``), omitting empty optionals."""
        attrs = {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "datacontenttype": self.datacontenttype,
            "tenantid": self.tenantid,
        }
        optional = {
            "subject": self.subject,
            "time": self.time.isoformat() if self.time else None,
            "dataschema": self.dataschema,
            "traceparent": self.traceparent,
            "correlationid": self.correlationid,
        }
        attrs.update({k: v for k, v in optional.items() if v})
        return attrs

    def to_kafka_headers(self) -> list[tuple[str, bytes]]:
        """Binary-mode headers: ``ce_<attribute>`` plus ``content-type``."""
        headers = [(f"ce_{k}", v.encode()) for k, v in self.attributes().items() if k != "datacontenttype"]
        headers.append(("content-type", self.datacontenttype.encode()))
        return headers

    def data_bytes(self) -> bytes:
        """The record value in binary mode: the data as compact JSON."""
        return json.dumps(self.data, separators=(",", ":"), ensure_ascii=False).encode()

    def to_structured(self) -> dict[str, Any]:
        """The event as one structured-mode JSON object."""
        return {**self.attributes(), "data": self.data}

    def with_data(self, data: dict[str, Any]) -> CloudEvent:
        """A copy with other data (used by upcasting)."""
        return replace(self, data=data)

    @property
    def schema_version(self) -> int:
        """The data version named at the end of ``dataschema`` (``…/v2.json`` → 2); 1 when absent."""
        return _schema_version(self.dataschema or "")

    @classmethod
    def from_attributes(cls, attrs: dict[str, Any], data: Any) -> CloudEvent:
        """Build and validate an event from attribute values and decoded data."""
        missing = [name for name in _REQUIRED if not attrs.get(name)]
        if missing:
            raise EnvelopeError(f"missing CloudEvents attribute(s): {', '.join(missing)}")
        if attrs["specversion"] != SPECVERSION:
            raise EnvelopeError(f"unsupported specversion {attrs['specversion']!r}")
        if not attrs.get("tenantid"):
            raise EnvelopeError("missing the 'tenantid' extension attribute")
        if not isinstance(data, dict):
            raise EnvelopeError("event data must be a JSON object")
        time_text = attrs.get("time")
        try:
            time = datetime.fromisoformat(str(time_text)) if time_text else None
        except ValueError:
            raise EnvelopeError(f"'time' is not an RFC 3339 timestamp: {time_text!r}") from None
        if time is not None and time.tzinfo is None:
            raise EnvelopeError("'time' has no UTC offset")
        return cls(
            type=str(attrs["type"]),
            source=str(attrs["source"]),
            id=str(attrs["id"]),
            tenantid=str(attrs["tenantid"]),
            data=data,
            time=time,
            subject=attrs.get("subject") or None,
            dataschema=attrs.get("dataschema") or None,
            datacontenttype=str(attrs.get("datacontenttype") or JSON_CONTENT_TYPE),
            traceparent=attrs.get("traceparent") or None,
            correlationid=attrs.get("correlationid") or None,
        )

    @classmethod
    def from_kafka(
        cls, headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...], value: bytes | None
    ) -> CloudEvent:
        """Decode a Kafka record in binary or structured mode; raise EnvelopeError when it is not a CloudEvent."""
        attrs: dict[str, Any] = {}
        content_type = ""
        try:
            for key, raw in headers or ():
                attribute = _ATTRIBUTE_HEADERS.get(key)
                if attribute is None:  # content-type, another spelling, an extension or an unrelated header
                    name = key.lower()
                    if name == "content-type":
                        content_type = (raw or b"").decode()
                        continue
                    if not name.startswith("ce_"):
                        continue
                    attribute = name[3:]
                attrs[attribute] = (raw or b"").decode()
        except UnicodeDecodeError:
            raise EnvelopeError("headers are not UTF-8") from None
        if value is None:
            raise EnvelopeError("empty record (tombstone)")
        try:
            body = orjson.loads(value)  # every consumed event: the fast parser (rejects NaN, as JSON does)
        except orjson.JSONDecodeError as exc:
            raise EnvelopeError(f"value is not JSON: {exc}") from None
        if content_type.startswith(STRUCTURED_CONTENT_TYPE):
            if not isinstance(body, dict):
                raise EnvelopeError("structured event is not a JSON object")
            return cls.from_attributes(body, body.get("data"))
        if not attrs:
            raise EnvelopeError("no ce_ headers: not a binary-mode CloudEvent")
        attrs.setdefault("datacontenttype", content_type or JSON_CONTENT_TYPE)
        return cls.from_attributes(attrs, body)
