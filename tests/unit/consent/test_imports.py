"""Import rows (pure): parsing, validation with line numbers, and the client's resumable chunking."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest

from sdk.consent_import import _chunks
from services.consent.domain.errors import NoticeVersionExpired
from services.consent.domain.imports import ImportRow, RowError, read_rows, validate
from services.consent.domain.notices import check_in_force, text_hash

KEY = b"k" * 32
NOW = datetime(2026, 3, 2, tzinfo=UTC)


def test_ndjson_rows_are_validated_one_by_one_with_their_line_numbers() -> None:
    text = (
        '{"subject_kind": "email", "subject": " Ada@Example.com ", "purpose": "news", "decision": "granted",'
        ' "occurred_at": "2025-01-01T00:00:00Z"}\n'
        '{"subject_kind": "email", "subject": "nope", "purpose": "news", "decision": "granted",'
        ' "occurred_at": "2025-01-01T00:00:00Z"}\n'
        "[1, 2]\n"
    )
    results = [validate(line, fields, KEY, NOW, tenant="acme") for line, fields in read_rows("ndjson", text, 11)]
    assert isinstance(results[0], ImportRow) and results[0].line == 11 and len(results[0].subject_ref) == 64
    assert isinstance(results[1], RowError) and (results[1].line, results[1].field) == (12, "email")
    assert "nope" not in results[1].error
    assert isinstance(results[2], RowError) and results[2].line == 13


def test_csv_rows_need_a_timezone_and_a_known_decision() -> None:
    text = "subject_ref,purpose,decision,occurred_at\n" + "a" * 64 + ",news,granted,2025-01-01T00:00:00\n"
    text += "a" * 64 + ",news,perhaps,2025-01-01T00:00:00Z\n"
    results = [validate(line, fields, KEY, NOW, tenant="acme") for line, fields in read_rows("csv", text, 1)]
    assert [r.field for r in results if isinstance(r, RowError)] == ["occurred_at", "decision"]


def test_decisions_and_kinds_in_any_case_are_read_and_other_values_are_row_errors() -> None:
    base: dict[str, Any] = {"subject_kind": "email", "subject": "ada@example.com", "purpose": "news"}
    base["occurred_at"] = "2025-01-01T00:00:00Z"
    accepted = [base | {"decision": " Withdrawn "}, base | {"decision": "DENIED", "subject_kind": " Email "}]
    rejected = [base | {"decision": ["granted"]}, base | {"decision": 1}, base | {"decision": None}, base]
    rejected.append(base | {"decision": "granted", "subject_kind": ["email"]})
    results = [validate(line, fields, KEY, NOW, tenant="acme") for line, fields in enumerate(accepted + rejected, 1)]
    assert [r.decision.value for r in results[:2] if isinstance(r, ImportRow)] == ["withdrawn", "denied"]
    assert [(r.line, r.field) for r in results[2:] if isinstance(r, RowError)] == [
        (3, "decision"),
        (4, "decision"),
        (5, "decision"),
        (6, "decision"),
        (7, "kind"),
    ]


def test_notice_in_force_window() -> None:
    published, superseded = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC)
    check_in_force(
        1, datetime(2025, 3, 1, tzinfo=UTC), published_at=published, superseded_at=superseded, expires_at=None
    )
    for at in (datetime(2024, 12, 31, tzinfo=UTC), superseded):
        with pytest.raises(NoticeVersionExpired, match="notice_version"):
            check_in_force(1, at, published_at=published, superseded_at=superseded, expires_at=None)
    assert text_hash("a\r\nb") == text_hash("a\nb")


def test_the_client_resumes_after_the_rows_already_stored_and_repeats_the_csv_header() -> None:
    handle = io.StringIO("r1\nr2\nr3\nr4\nr5")
    chunks = [(text, rows) for text, _, rows in _chunks(handle, 2, 2, "h\n")]
    assert chunks == [("h\nr3\nr4\n", 2), ("h\nr5\n", 1)]


def test_the_client_keeps_chunks_of_wide_rows_small() -> None:
    handle = io.StringIO("".join(f"{i:0100d}\n" for i in range(7)))
    chunks = [(rows, read) for _, read, rows in _chunks(handle, 0, 1000, None, max_bytes=250)]
    assert chunks == [(3, 303), (3, 303), (1, 101)]  # a chunk ends once it holds about max_bytes
