"""Rows of a bulk import (NDJSON or CSV): read, validate and normalise one row at a time, no I/O.

A row names the subject by identifier (``subject_kind`` + ``subject``) or by ``subject_ref``, the
purpose, the decision and when it was made; optional: channel, collector, notice_version, form_id,
language. A bad row is reported with its line number and the field at fault, never with its content.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from services.consent.domain.decisions import Decision, require_aware
from services.consent.domain.errors import InvalidImportRow
from services.consent.domain.identifiers import is_subject_ref, subject_ref
from shared.rules.errors import RuleViolation

FORMATS = ("ndjson", "csv")
COLUMNS = (
    "subject_kind",
    "subject",
    "subject_ref",
    "purpose",
    "decision",
    "occurred_at",
    "channel",
    "collector",
    "notice_version",
    "form_id",
    "language",
)
_COLUMN_SET = frozenset(COLUMNS)
_DECISIONS = {decision.value: decision for decision in Decision}
_LIMITS = {"channel": 64, "collector": 255, "form_id": 255, "language": 35, "purpose": 128}


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One valid row, ready to be stored: the subject only as its keyed reference."""

    line: int
    subject_ref: str
    purpose: str
    decision: Decision
    occurred_at: datetime
    channel: str | None
    collector: str | None
    notice_version: int | None
    form_id: str | None
    language: str | None


@dataclass(frozen=True, slots=True)
class RowError:
    """Why one row was rejected."""

    line: int
    field: str | None
    error: str


def read_rows(fmt: str, text: str, first_line: int) -> Iterator[tuple[int, Mapping[str, Any] | RowError]]:
    """Yield (line number, raw fields or an error) for each data row; CSV text starts with its header."""
    if fmt == "ndjson":
        # Lines end at \n, \r\n or \r, as a file read with universal newlines (the client's chunks) has
        # them; not at the other separators str.splitlines() knows, which a JSON string may hold (U+2028).
        for offset, raw in enumerate(io.StringIO(text, newline="")):
            line = first_line + offset
            if not raw.strip():
                yield line, RowError(line, None, "empty line")
                continue
            try:
                value = orjson.loads(raw)
            except ValueError:  # orjson.JSONDecodeError is one
                yield line, RowError(line, None, "not a JSON object")
                continue
            yield line, value if isinstance(value, dict) else RowError(line, None, "not a JSON object")
    elif fmt == "csv":
        reader = csv.DictReader(io.StringIO(text))
        unknown = set(reader.fieldnames or ()) - set(COLUMNS)
        if unknown:
            raise InvalidImportRow("header", f"unknown columns {sorted(unknown)}; allowed: {', '.join(COLUMNS)}")
        for offset, fields in enumerate(reader):
            line = first_line + offset
            if None in fields:
                yield line, RowError(line, None, "more values than header columns")
                continue
            yield line, {k: v for k, v in fields.items() if v not in (None, "")}
    else:
        raise InvalidImportRow("format", f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def parse_row(line: int, fields: Mapping[str, Any], key: bytes, now: datetime, *, tenant: str) -> ImportRow:
    """Validate one row's fields and return it normalised; raise a ``DomainError`` naming the field at fault."""
    if not fields.keys() <= _COLUMN_SET and (unknown := set(fields) - _COLUMN_SET):
        raise InvalidImportRow(sorted(unknown)[0], "is not a known column")
    if "subject_ref" in fields:
        ref = fields["subject_ref"]
        if not is_subject_ref(ref):
            raise InvalidImportRow("subject_ref", "must be a 64-character subject reference")
    else:
        kind, value = fields.get("subject_kind"), fields.get("subject")
        if not kind or not value:
            raise InvalidImportRow("subject", "give subject_kind and subject, or subject_ref")
        ref = subject_ref(key, str(kind), str(value), tenant=tenant)
    purpose = _text(fields, "purpose", required=True)
    assert purpose is not None
    raw_decision = fields.get("decision")
    decision = _DECISIONS.get(raw_decision.strip().lower()) if isinstance(raw_decision, str) else None
    if decision is None:
        raise InvalidImportRow("decision", "must be granted, denied or withdrawn")
    raw_time = fields.get("occurred_at")
    if not raw_time:
        raise InvalidImportRow("occurred_at", "is required (ISO 8601 with a timezone)")
    try:
        occurred_at = require_aware(datetime.fromisoformat(str(raw_time).replace("Z", "+00:00")), "occurred_at")
    except ValueError:
        raise InvalidImportRow("occurred_at", "must be an ISO 8601 date-time with a timezone") from None
    if occurred_at > now:
        raise InvalidImportRow("occurred_at", "is in the future")
    return ImportRow(
        line=line,
        subject_ref=str(ref),
        purpose=purpose,
        decision=decision,
        occurred_at=occurred_at,
        channel=_text(fields, "channel"),
        collector=_text(fields, "collector"),
        notice_version=_version(fields.get("notice_version")),
        form_id=_text(fields, "form_id"),
        language=_text(fields, "language"),
    )


def validate(
    line: int, fields: Mapping[str, Any] | RowError, key: bytes, now: datetime, *, tenant: str
) -> ImportRow | RowError:
    """Parse a row, turning any rule violation into a ``RowError``."""
    if isinstance(fields, RowError):
        return fields
    try:
        return parse_row(line, fields, key, now, tenant=tenant)
    except RuleViolation as error:
        return RowError(line, error.field or "row", error.detail or str(error))


def _text(fields: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = fields.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidImportRow(name, "is required")
        return None
    if not isinstance(value, str):
        raise InvalidImportRow(name, "must be text")
    if len(value) > _LIMITS[name]:
        raise InvalidImportRow(name, f"is longer than {_LIMITS[name]} characters")
    return value.strip()


def _version(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        version = int(value)
    except (TypeError, ValueError):
        raise InvalidImportRow("notice_version", "must be a whole number") from None
    if version < 1:
        raise InvalidImportRow("notice_version", "must be 1 or more")
    return version
