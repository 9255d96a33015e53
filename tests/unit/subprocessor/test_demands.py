"""Authority demands: the status ladder, the second reviewer, deferrals that need a reason and an end, disclosures
within the demand's scope, and the evidence summary without a person's data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.subprocessor.domain import NaiveDatetime
from services.subprocessor.domain.demands import (
    Decision,
    Deferral,
    DemandStatus,
    DemandTransitionRefused,
    DisclosureRefused,
    InvalidDeferral,
    InvalidDemand,
    SameReviewer,
    decide,
    deferral_lapsed,
    evidence_summary,
    outside_eea,
    transition,
    validate_deferral,
    validate_disclosure,
    validate_past,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
S = DemandStatus


def test_a_demand_is_reviewed_then_decided_then_closed() -> None:
    assert transition("received", S.UNDER_REVIEW) is S.UNDER_REVIEW
    for decision in Decision:
        assert decide("under_review", decision, reviewer="bob", recorded_by="alice").value == decision.value
    assert transition("disclosed", S.CLOSED) is S.CLOSED
    assert transition("refused", S.CLOSED) is S.CLOSED


def test_a_challenged_demand_is_decided_again_when_the_challenge_ends() -> None:
    assert decide("challenged", Decision.REFUSED, reviewer="bob", recorded_by="alice") is S.REFUSED
    assert transition("challenged", S.CLOSED) is S.CLOSED
    with pytest.raises(DemandTransitionRefused):
        decide("challenged", Decision.CHALLENGED, reviewer="bob", recorded_by="alice")


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("received", S.DISCLOSED),  # no decision without a review
        ("received", S.CLOSED),
        ("under_review", S.CLOSED),
        ("disclosed", S.REFUSED),
        ("closed", S.UNDER_REVIEW),
    ],
)
def test_illegal_transitions_are_conflicts(current: str, target: DemandStatus) -> None:
    with pytest.raises(DemandTransitionRefused) as caught:
        transition(current, target)
    assert caught.value.status == 409


def test_a_demand_is_decided_only_under_review() -> None:
    with pytest.raises(DemandTransitionRefused, match="start the review"):
        decide("received", Decision.DISCLOSED, reviewer="bob", recorded_by="alice")


def test_whoever_recorded_a_demand_may_not_decide_it() -> None:
    with pytest.raises(SameReviewer) as caught:
        decide("under_review", Decision.DISCLOSED, reviewer="alice", recorded_by="alice")
    assert caught.value.status == 409


def test_a_deferral_needs_an_instrument_a_reason_and_a_future_end() -> None:
    until = NOW + timedelta(days=90)
    good = Deferral("gag order during the investigation", "TJ Paris 2026/118", until)
    assert validate_deferral(good, NOW) == good
    for bad in (
        Deferral(" ", "TJ Paris 2026/118", until),
        Deferral("gag order", "", until),
        Deferral("gag order", "TJ Paris 2026/118", NOW),  # an end already reached is no reason to wait
    ):
        with pytest.raises(InvalidDeferral):
            validate_deferral(bad, NOW)
    with pytest.raises(NaiveDatetime):
        validate_deferral(Deferral("gag order", "TJ", datetime(2026, 6, 1)), NOW)


def test_a_deferral_lapses_at_its_end() -> None:
    until = NOW + timedelta(days=1)
    assert not deferral_lapsed(until, NOW)
    assert deferral_lapsed(until, until)
    assert deferral_lapsed(until, until + timedelta(seconds=1))


def test_a_demand_cannot_arrive_in_the_future() -> None:
    assert validate_past(NOW - timedelta(hours=1), NOW) == NOW - timedelta(hours=1)
    with pytest.raises(InvalidDemand, match="received_at is in the future"):
        validate_past(NOW + timedelta(minutes=1), NOW)
    with pytest.raises(InvalidDemand, match="disclosed_at is in the future"):
        validate_past(NOW + timedelta(minutes=1), NOW, "disclosed_at")


def disclosure(status: str = "partially_disclosed", **overrides: object) -> list[str]:
    values: dict[str, object] = {
        "subject_ref": "ref-ada",
        "subjects": ["ref-ada", "ref-bob"],
        "categories": ["connection_logs"],
        "requested": ["connection_logs", "contact_details"],
        "records_count": 3,
    }
    values.update(overrides)
    return validate_disclosure(status, **values)  # type: ignore[arg-type]


def test_a_disclosure_lies_within_the_decision_and_the_demands_scope() -> None:
    assert disclosure() == ["connection_logs"]
    assert disclosure("disclosed", categories=["contact_details", "connection_logs", "connection_logs"]) == [
        "connection_logs",
        "contact_details",
    ]
    for status in ("received", "under_review", "refused", "challenged", "closed"):
        with pytest.raises(DisclosureRefused):
            disclosure(status)
    with pytest.raises(DisclosureRefused, match="not one the demand concerns"):
        disclosure(subject_ref="ref-eve")
    with pytest.raises(DisclosureRefused, match="beyond what the authority asked for: payment_data"):
        disclosure(categories=["connection_logs", "payment_data"])
    with pytest.raises(DisclosureRefused):
        disclosure(records_count=-1)


def test_the_evidence_summary_counts_without_personal_data() -> None:
    demands: list[dict[str, Any]] = [
        {"status": "closed", "authority_country": "FR", "customer_notified_at": NOW, "deferred": False},
        {"status": "challenged", "authority_country": "US", "customer_notified_at": None, "deferred": True},
        {"status": "closed", "authority_country": "FR", "customer_notified_at": NOW, "deferred": True},
    ]
    summary = evidence_summary(demands)
    assert summary["count"] == 3
    assert summary["by_status"] == {"challenged": 1, "closed": 2}
    assert summary["by_authority_country"] == {"FR": 2, "US": 1}
    assert (summary["customers_notified"], summary["notifications_deferred"]) == (2, 2)


def test_a_third_countrys_authority_is_flagged_for_article_48() -> None:
    assert not outside_eea("FR") and not outside_eea("no")
    assert outside_eea("US") and outside_eea("GB")
