"""Notice changes: when fresh consent is asked, whom a change reaches, how outcomes move, what the banner shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.consent.domain.notice_changes import (
    DELIVERED,
    FAILED,
    OPTED_OUT,
    REQUESTED,
    SENT,
    UNREACHABLE,
    Addressee,
    InvalidNoticeChange,
    PublishedChange,
    count,
    in_banner,
    may_unsubscribe,
    next_status,
    renewal_required,
    status_for,
)
from services.consent.domain.notices import text_hash

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=30)


def test_a_material_change_of_a_consent_purpose_asks_again_by_default() -> None:
    assert renewal_required(material=True, requires_renewal=None, lawful_basis="consent") is True
    assert renewal_required(material=True, requires_renewal=None, lawful_basis="contract") is False
    assert renewal_required(material=False, requires_renewal=None, lawful_basis="consent") is False
    # The publisher may say a material change only informs (a new address of the DPO, say).
    assert renewal_required(material=True, requires_renewal=False, lawful_basis="consent") is False
    assert renewal_required(material=True, requires_renewal=True, lawful_basis="legitimate_interest") is True


def test_fresh_consent_cannot_be_asked_for_a_change_that_is_not_material() -> None:
    with pytest.raises(InvalidNoticeChange) as raised:
        renewal_required(material=False, requires_renewal=True, lawful_basis="consent")
    assert raised.value.field == "requires_renewal" and raised.value.status == 422


def test_only_an_informational_message_can_be_refused() -> None:
    assert may_unsubscribe(requires_renewal=False)
    assert not may_unsubscribe(requires_renewal=True)


def test_every_person_is_counted_once_and_none_is_dropped() -> None:
    people = [
        Addressee("a", has_address=True),
        Addressee("b", has_address=False),
        Addressee("c", has_address=True, opted_out=True),
        Addressee("d", has_address=False, opted_out=True),
    ]
    informs = [status_for(p, requires_renewal=False) for p in people]
    assert informs == [REQUESTED, UNREACHABLE, OPTED_OUT, UNREACHABLE]
    counts = count(informs)
    assert (counts.targeted, counts.requested, counts.unreachable, counts.opted_out) == (4, 1, 2, 1)
    # A message asking for renewal is sent even to someone who unsubscribed from informational ones.
    renews = [status_for(p, requires_renewal=True) for p in people]
    assert renews == [REQUESTED, UNREACHABLE, REQUESTED, UNREACHABLE]
    assert count(renews).requested == 2


@pytest.mark.parametrize(
    ("current", "outcome", "expected"),
    [
        (REQUESTED, SENT, SENT),
        (REQUESTED, DELIVERED, DELIVERED),
        (SENT, DELIVERED, DELIVERED),
        (SENT, FAILED, FAILED),
        (DELIVERED, FAILED, FAILED),  # a bounce after the relay accepted it
        (DELIVERED, SENT, None),  # late
        (SENT, SENT, None),  # repeated
        (FAILED, DELIVERED, None),  # final
        (UNREACHABLE, DELIVERED, None),  # never requested
    ],
)
def test_outcomes_only_move_forward(current: str, outcome: str, expected: str | None) -> None:
    assert next_status(current, outcome) == expected


def test_the_banner_shows_the_newest_material_change_of_each_purpose_within_the_window() -> None:
    changes = [
        PublishedChange("newsletter", 2, NOW - timedelta(days=20)),
        PublishedChange("newsletter", 3, NOW - timedelta(days=2)),
        PublishedChange("analytics", 4, NOW - timedelta(days=10)),
        PublishedChange("ads", 2, NOW - timedelta(days=31)),  # out of the window
        PublishedChange("future", 1, NOW + timedelta(minutes=1)),  # not published yet at NOW
    ]
    shown = in_banner(changes, NOW, WINDOW)
    assert [(c.purpose, c.version) for c in shown] == [("newsletter", 3), ("analytics", 4)]
    assert in_banner(changes, NOW + timedelta(days=40), WINDOW) == []
    # The edge of the window is still in it.
    assert in_banner([PublishedChange("x", 2, NOW - WINDOW)], NOW, WINDOW)


def test_the_text_hash_is_the_sha256_of_the_text_with_unix_line_endings() -> None:
    assert text_hash("a\r\nb") == text_hash("a\nb")
    assert text_hash("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
