"""The console's pure rules: the queue's filters and order, breach clocks in hours, the breach forms' bodies."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.breach.domain.clock_rules import Jurisdiction
from services.breach.domain.incidents import Nature
from services.breach.domain.notices import NoticeField, NoticeKind, NoticeStage
from services.breach.domain.severity import (
    AvailabilityLoss,
    ConfidentialityLoss,
    DataCategory,
    EaseOfIdentification,
    IntegrityLoss,
)
from services.portal.domain import FormError
from services.portal.domain import breach_forms as forms
from services.portal.domain.clocks import colour, describe_hours, describe_period, register_csv, running, soonest_first
from services.portal.domain.queue import OPEN_STATES, as_csv, list_params
from services.portal.domain.urgency import days_left, due_by_end_of

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def row(id_: str, state: str = "in_progress", days: int = 10, **changes: Any) -> dict[str, Any]:
    return {
        "id": id_,
        "type": "erasure",
        "jurisdiction": "eu-gdpr",
        "state": state,
        "received_at": f"2026-03-0{len(id_)}T09:00:00+00:00",
        "days_left": days,
        "deadline": {"due_at": "2026-04-01T00:00:00+00:00", "basis": "one month", "extended_by": None},
    } | changes


def test_the_queue_asks_the_service_for_its_filters_order_and_page() -> None:
    now = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
    base = {"state": "open", "type": "", "jurisdiction": "", "due": "", "sort": "due"}
    assert list_params(base, now, limit=51) == {"limit": 51, "offset": 0, "order": "due", "state": list(OPEN_STATES)}
    every = list_params(base | {"state": "", "type": "access", "jurisdiction": "uk-gdpr", "sort": "received"}, now,
                        limit=51, offset=100)  # fmt: skip
    assert every == {"limit": 51, "offset": 100, "order": "received", "type": "access", "jurisdiction": "uk-gdpr"}
    # At most 7 days left: due before the start of the 8th day; overdue: due before today (UTC days, as days_left).
    week = list_params(base | {"due": "7"}, now, limit=51)
    assert week is not None and week["due_before"] == "2026-03-18T00:00:00+00:00"
    overdue = list_params(base | {"state": "", "due": "overdue"}, now, limit=51)
    assert overdue is not None
    assert overdue["due_before"] == "2026-03-10T00:00:00+00:00" and overdue["state"] == list(OPEN_STATES)
    # The due windows keep open requests only: a closed state with one asks nothing.
    assert list_params(base | {"state": "completed", "due": "7"}, now, limit=51) is None
    due = datetime(2026, 3, 17, 23, 59, 59, tzinfo=UTC)
    assert days_left(due, now) == 7 and due < due_by_end_of(now, 7) <= due + timedelta(seconds=1)


def test_the_queue_csv_has_one_line_per_request_and_no_identifier() -> None:
    rows = list(csv.DictReader(io.StringIO(as_csv([row("a", days=-1, subject_ref="ff" * 32)]))))
    assert rows == [
        {
            "id": "a",
            "type": "erasure",
            "jurisdiction": "eu-gdpr",
            "state": "in_progress",
            "received_at": "2026-03-01T09:00:00+00:00",
            "due_at": "2026-04-01T00:00:00+00:00",
            "days_left": "-1",
            "basis": "one month",
            "extended": "no",
        }
    ]


@pytest.mark.parametrize(
    ("hours", "words", "shade"),
    [
        (71.5, "2 days 23 hours left", "amber"),
        (72, "3 days left", "amber"),
        (80, "3 days 8 hours left", "green"),
        (47.9, "47 hours left", "amber"),
        (24, "24 hours left", "red"),
        (1, "1 hour left", "red"),
        (0.4, "less than an hour left", "red"),
        (-5, "5 hours overdue", "red"),
        (-50, "2 days 2 hours overdue", "red"),
    ],
)
def test_a_breach_clock_reads_in_hours_under_two_days(hours: float, words: str, shade: str) -> None:
    assert (describe_hours(hours), colour(hours)) == (words, shade)


def test_only_a_running_clock_counts_down() -> None:
    due = (NOW + timedelta(hours=12)).isoformat()
    assert running({"status": "open", "due_at": due}, NOW)["left"] == "12 hours left"
    assert running({"status": "overdue", "due_at": (NOW - timedelta(hours=3)).isoformat()}, NOW)["colour"] == "red"
    met = running({"status": "met", "due_at": due}, NOW)
    assert (met["left"], met["colour"], met["hours_left"]) == ("met", None, None)
    assert running({"status": "open", "due_at": None}, NOW)["colour"] is None


def test_the_register_csv_joins_lists_and_leaves_unknowns_empty() -> None:
    text = register_csv([{"reference": "BR-2026-1", "nature": ["confidentiality", "integrity"], "risk": None}])
    (line,) = list(csv.DictReader(io.StringIO(text)))
    assert line["reference"] == "BR-2026-1" and line["nature"] == "confidentiality; integrity" and line["risk"] == ""


def test_the_forms_offer_only_what_the_breach_service_accepts() -> None:
    assert set(forms.NATURES) == {n.value for n in Nature}
    assert set(forms.JURISDICTIONS) <= {j.value for j in Jurisdiction}
    assert not {"eu-nis2", "eu-dora", "us-hipaa"} & set(forms.JURISDICTIONS)  # they need their entity flags
    assert set(forms.DATA_CATEGORIES) == {c.value for c in DataCategory}
    assert set(forms.EASE) == {e.value for e in EaseOfIdentification}
    assert set(forms.CONFIDENTIALITY) == {c.value for c in ConfidentialityLoss}
    assert set(forms.INTEGRITY) == {i.value for i in IntegrityLoss}
    assert set(forms.AVAILABILITY) == {a.value for a in AvailabilityLoss}
    assert set(forms.NOTICE_KINDS) <= {k.value for k in NoticeKind}
    assert set(forms.NOTICE_STAGES) == {s.value for s in NoticeStage}
    assert set(forms.TO_FOLLOW) <= {f.value for f in NoticeField}


def test_a_report_becomes_an_incident_with_utc_times() -> None:
    form = {
        "title": [" Laptop lost "],
        "description": ["Stolen from a car."],
        "detected_at": ["2026-03-10T07:00"],
        "aware_at": ["2026-03-10T08:30"],
        "nature": ["confidentiality", "confidentiality", "bogus"],
        "jurisdictions": ["eu-gdpr", "eu-nis2"],
        "data_categories": ["contact, invoices\nhealth"],
        "measures_taken": ["Wiped remotely\n\nPasswords reset, all of them"],
        "approximate_subjects": ["40"],
    }
    body = forms.incident_body(form, "dpo@demo.example", NOW)
    assert body["aware_at"] == "2026-03-10T08:30:00+00:00" and body["nature"] == ["confidentiality"]
    assert body["jurisdictions"] == ["eu-gdpr"] and body["data_categories"] == ["contact", "invoices", "health"]
    assert body["measures_taken"] == ["Wiped remotely", "Passwords reset, all of them"]
    assert body["approximate_subjects"] == 40 and "approximate_records" not in body and body["title"] == "Laptop lost"


def test_a_bad_report_names_every_field_to_fix() -> None:
    with pytest.raises(FormError) as caught:
        forms.incident_body({"aware_at": ["2026-03-11T08:00"], "approximate_records": ["many"]}, "x", NOW)
    assert set(caught.value.errors) == {
        "title",
        "description",
        "detected_at",
        "aware_at",
        "nature",
        "jurisdictions",
        "approximate_records",
    }
    assert "future" in caught.value.errors["aware_at"]


def test_an_assessment_and_a_notice_from_their_forms() -> None:
    assessed = forms.assessment_body(
        {"category": ["sensitive"], "ease_of_identification": ["limited"], "rationale": ["Health data."]}
    )
    assert assessed["circumstances"] == {
        "confidentiality": "none",
        "integrity": "none",
        "availability": "none",
        "malicious_intent": False,
    }
    with pytest.raises(FormError):
        forms.assessment_body({"category": ["sensitive"], "ease_of_identification": ["total"], "rationale": ["x"]})
    notice = forms.notice_body({"kind": ["authority"], "jurisdiction": ["eu-gdpr"], "to_follow": ["measures"]})
    assert notice == {
        "kind": "authority",
        "stage": "initial",
        "to_follow": {"measures": "Not yet known."},
        "jurisdiction": "eu-gdpr",
    }
    with pytest.raises(FormError) as caught:
        forms.notice_body({"kind": ["authority"]})
    assert set(caught.value.errors) == {"jurisdiction"}


def test_clocks_without_a_due_time_sort_after_every_timed_one() -> None:
    """ "Without undue delay" has no hours left to compare: it never breaks the order (nor the register page)."""
    undue = running({"status": "open", "due_at": None}, NOW)
    soon = running({"status": "open", "due_at": (NOW + timedelta(hours=2)).isoformat()}, NOW)
    late = running({"status": "overdue", "due_at": (NOW - timedelta(hours=5)).isoformat()}, NOW)
    assert sorted([undue, soon, late], key=soonest_first) == [late, soon, undue]
    assert min([undue, soon], key=soonest_first) is soon


@pytest.mark.parametrize(
    ("period", "words"),
    [
        ("P1Y", "1 year"),
        ("P90D", "90 days"),
        ("P13M", "13 months"),
        ("P2Y6M", "2 years 6 months"),
        ("P1W", "1 week"),
        ("PT72H", "72 hours"),
        ("P1DT12H", "1 day 12 hours"),
        ("P", "P"),
        ("ten years", "ten years"),
        (None, "—"),
    ],
)
def test_a_retention_period_reads_in_words(period: str | None, words: str) -> None:
    assert describe_period(period) == words
