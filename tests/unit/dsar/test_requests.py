"""Request life cycle, type-specific details and repetition checks, with worked dates."""

from __future__ import annotations

from datetime import datetime

import pytest

from services.dsar.domain import (
    Correction,
    DomainError,
    IllegalTransition,
    InvalidRequestDetails,
    InvalidTimestamp,
    PriorRequest,
    RepetitionPolicy,
    RequestDetails,
    RequestState,
    RequestType,
    allowed_transitions,
    assess_repetition,
    is_final,
    transition,
    validate_details,
)
from shared.rules.durations import Duration

S, T = RequestState, RequestType


def at(moment: str) -> datetime:
    """An aware UTC instant from 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(f"{moment}+00:00")


# --- life cycle ------------------------------------------------------------------------------------

LEGAL = [
    (S.RECEIVED, S.AWAITING_VERIFICATION),
    (S.RECEIVED, S.VERIFIED),
    (S.RECEIVED, S.REFUSED),
    (S.RECEIVED, S.CANCELLED),
    (S.AWAITING_VERIFICATION, S.VERIFIED),
    (S.AWAITING_VERIFICATION, S.REFUSED),
    (S.AWAITING_VERIFICATION, S.CANCELLED),
    (S.VERIFIED, S.IN_PROGRESS),
    (S.VERIFIED, S.REFUSED),
    (S.VERIFIED, S.CANCELLED),
    (S.IN_PROGRESS, S.COMPLETED),
    (S.IN_PROGRESS, S.REFUSED),
    (S.IN_PROGRESS, S.CANCELLED),
]


@pytest.mark.parametrize(("current", "target"), LEGAL)
def test_legal_transitions(current, target):
    assert transition(current, target) is target


@pytest.mark.parametrize(
    ("current", "target"),
    [(c, t) for c in RequestState for t in RequestState if (c, t) not in LEGAL],
)
def test_every_other_move_is_illegal(current, target):
    with pytest.raises(IllegalTransition):
        transition(current, target)


def test_illegal_transition_says_what_is_allowed():
    with pytest.raises(IllegalTransition, match=r"'received' cannot move to 'in_progress'.*verified") as caught:
        transition(S.RECEIVED, S.IN_PROGRESS)
    assert caught.value.status == 409
    with pytest.raises(IllegalTransition, match="none, it is final"):
        transition(S.COMPLETED, S.IN_PROGRESS)


def test_states_given_as_text_and_final_states():
    assert transition("awaiting_verification", "verified") is S.VERIFIED  # type: ignore[arg-type]
    assert {state for state in RequestState if is_final(state)} == {S.COMPLETED, S.REFUSED, S.CANCELLED}
    assert allowed_transitions(S.VERIFIED) == {S.IN_PROGRESS, S.REFUSED, S.CANCELLED}


# --- type-specific details -------------------------------------------------------------------------


def test_rectification_needs_corrections_and_trims_them():
    with pytest.raises(InvalidRequestDetails, match="at least one field"):
        validate_details(T.RECTIFICATION)
    details = validate_details(T.RECTIFICATION, RequestDetails(corrections=(Correction(" surname ", " Martin "),)))
    assert details.corrections == (Correction("surname", "Martin"),)


@pytest.mark.parametrize(
    ("corrections", "message"),
    [
        ((Correction(" ", "x"),), r"corrections\[0\].field"),
        ((Correction("email", ""),), r"corrections\[0\].new_value"),
        ((Correction("email", "a@b.example"), Correction("email", "c@d.example")), "listed twice"),
    ],
)
def test_bad_corrections(corrections, message):
    with pytest.raises(InvalidRequestDetails, match=message):
        validate_details(T.RECTIFICATION, RequestDetails(corrections=corrections))


def test_objection_needs_purposes():
    with pytest.raises(InvalidRequestDetails, match="purposes"):
        validate_details(T.OBJECTION, RequestDetails(purposes=(" ",)))
    details = validate_details(T.OBJECTION, RequestDetails(purposes=("direct_marketing", " profiling", "profiling")))
    assert details.purposes == ("direct_marketing", "profiling")


def test_portability_may_name_a_target_controller():
    assert validate_details(T.PORTABILITY).target_controller is None
    named = validate_details(T.PORTABILITY, RequestDetails(target_controller=" Example Bank SA "))
    assert named.target_controller == "Example Bank SA"
    with pytest.raises(InvalidRequestDetails, match="target_controller"):
        validate_details(T.PORTABILITY, RequestDetails(target_controller="  "))


@pytest.mark.parametrize(
    ("request_type", "details", "message"),
    [
        (T.ERASURE, RequestDetails(corrections=(Correction("email", "x"),)), "only a rectification"),
        (T.ACCESS, RequestDetails(purposes=("marketing",)), "only an objection"),
        (T.RESTRICTION, RequestDetails(target_controller="Other Ltd"), "only a portability"),
    ],
)
def test_details_of_another_type_are_refused(request_type, details, message):
    with pytest.raises(InvalidRequestDetails, match=message):
        validate_details(request_type, details)


@pytest.mark.parametrize("request_type", [T.ACCESS, T.ERASURE, T.RESTRICTION, T.LIFT_RESTRICTION])
def test_types_without_details(request_type):
    assert validate_details(request_type) == RequestDetails()


# --- repeated and manifestly excessive requests ----------------------------------------------------


def test_same_type_within_a_month_is_flagged():
    previous = [PriorRequest(T.ACCESS, at("2026-01-10 09:00"))]
    result = assess_repetition(previous, T.ACCESS, at("2026-02-05 09:00"))
    assert result.flagged
    assert result.same_type_recent == 1
    assert result.reasons == ("an earlier access request was received on 2026-01-10, less than P1M before this one",)


def test_same_type_window_ends_a_calendar_month_later():
    previous = [PriorRequest(T.ACCESS, at("2026-01-10 09:00"))]
    assert assess_repetition(previous, T.ACCESS, at("2026-02-10 08:59")).flagged
    assert not assess_repetition(previous, T.ACCESS, at("2026-02-10 09:00")).flagged


def test_another_type_within_a_month_is_not_a_repeat():
    previous = [PriorRequest(T.ACCESS, at("2026-01-10 09:00"))]
    assert not assess_repetition(previous, T.ERASURE, at("2026-01-20 09:00")).flagged


def test_more_than_two_requests_in_twelve_months_is_flagged():
    previous = [PriorRequest(T.ACCESS, at("2025-02-01 10:00")), PriorRequest(T.ERASURE, at("2025-09-01 10:00"))]
    # 12 months before 1 Feb 2026 10:00 is 1 Feb 2025 10:00: the first request is just outside the window.
    outside = assess_repetition(previous, T.RECTIFICATION, at("2026-02-01 10:00"))
    assert (outside.flagged, outside.in_window) == (False, 2)
    inside = assess_repetition(previous, T.RECTIFICATION, at("2026-02-01 09:59"))
    assert inside.in_window == 3
    assert inside.reasons == ("3 requests within P12M (this one included); the policy allows 2",)


def test_both_reasons_together():
    previous = [PriorRequest(T.ACCESS, at("2025-12-01 10:00")), PriorRequest(T.ACCESS, at("2026-03-01 10:00"))]
    result = assess_repetition(previous, T.ACCESS, at("2026-03-15 10:00"))
    assert len(result.reasons) == 2
    assert "2026-03-01" in result.reasons[0]


def test_tenant_policy():
    policy = RepetitionPolicy(same_type_within=Duration(days=7), max_in_window=5)
    previous = [PriorRequest(T.ACCESS, at(f"2026-0{month}-01 10:00")) for month in range(1, 5)]
    assert not assess_repetition(previous, T.ACCESS, at("2026-04-08 10:00"), policy).flagged
    repeat = assess_repetition(previous, T.ACCESS, at("2026-04-07 10:00"), policy)
    assert repeat.flagged
    assert repeat.in_window == 5
    with pytest.raises(DomainError):
        RepetitionPolicy(max_in_window=0)


def test_later_requests_ignored_double_submission_counts():
    now = at("2026-05-01 10:00")
    later = assess_repetition([PriorRequest(T.ACCESS, at("2026-05-02 10:00"))], T.ACCESS, now)
    assert not later.flagged
    double = assess_repetition([PriorRequest(T.ACCESS, now)], T.ACCESS, now)
    assert double.flagged


def test_naive_times_are_refused():
    with pytest.raises(InvalidTimestamp):
        assess_repetition([], T.ACCESS, datetime(2026, 5, 1, 10))
    with pytest.raises(InvalidTimestamp):
        assess_repetition([PriorRequest(T.ACCESS, datetime(2026, 4, 1))], T.ACCESS, at("2026-05-01 10:00"))
