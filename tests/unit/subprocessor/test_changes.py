"""Change notices, objection windows and going effective, on worked dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.subprocessor.domain import (
    DEFAULT_NOTICE_PERIOD_DAYS,
    ChangeKind,
    ChangeState,
    CustomerNotAffected,
    CustomerNotice,
    EffectiveDateTooEarly,
    IllegalTransition,
    InvalidChange,
    NaiveDatetime,
    Objection,
    ObjectionAlreadyResolved,
    ObjectionRefused,
    ObjectionResolution,
    ObjectionWindowClosed,
    SubprocessorChange,
    blocking_reasons,
    can_go_effective,
    earliest_effective_date,
    raise_objection,
    resolve_objection,
    transition,
    validate_effective_date,
)
from shared.rules.workdays import WEEKENDS_ONLY, WorkingCalendar


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


DELIVERED = utc(2026, 3, 6, 10)  # a Friday
ACME_DEADLINE = utc(2026, 3, 21, 10)  # 15 calendar days
GLOBEX_DEADLINE = utc(2026, 4, 5, 10)  # 30 calendar days under Globex's DPA

CHANGE = SubprocessorChange(
    id="chg-1",
    kind=ChangeKind.ADD,
    subprocessor="MailRelay SAS",
    affected_customers=frozenset({"acme", "globex"}),
    effective_at=GLOBEX_DEADLINE,
    state=ChangeState.OBJECTION_WINDOW_OPEN,
)
NOTICES = [
    CustomerNotice(change_id="chg-1", customer_id="acme", delivered_at=DELIVERED),
    CustomerNotice(change_id="chg-1", customer_id="globex", notice_period_days=30, delivered_at=DELIVERED),
]


# --- notice periods ------------------------------------------------------------------------------


def test_default_notice_period_is_15_days() -> None:
    assert DEFAULT_NOTICE_PERIOD_DAYS == 15
    assert earliest_effective_date(DELIVERED) == ACME_DEADLINE
    assert NOTICES[0].objection_deadline == ACME_DEADLINE


def test_notice_period_per_customer_contract() -> None:
    assert earliest_effective_date(DELIVERED, 30) == GLOBEX_DEADLINE
    assert NOTICES[1].objection_deadline == GLOBEX_DEADLINE


def test_notice_period_across_a_leap_day() -> None:
    assert earliest_effective_date(utc(2028, 2, 20, 8), 15) == utc(2028, 3, 6, 8)


def test_notice_period_in_business_days() -> None:
    # 15 business days from Friday 6 March 2026 is Friday 27 March.
    assert earliest_effective_date(DELIVERED, 15, calendar=WEEKENDS_ONLY) == utc(2026, 3, 27, 10)
    easter_monday = WorkingCalendar.with_holidays([date(2026, 4, 6)])
    assert earliest_effective_date(utc(2026, 3, 30, 9), 10, calendar=easter_monday) == utc(2026, 4, 14, 9)
    notice = CustomerNotice("chg-1", "acme", notice_period_days=15, delivered_at=DELIVERED, calendar=WEEKENDS_ONLY)
    assert notice.objection_deadline == utc(2026, 3, 27, 10)


def test_undelivered_notice_has_no_deadline_yet() -> None:
    assert CustomerNotice("chg-1", "acme").objection_deadline is None


@pytest.mark.parametrize("days", [0, -5])
def test_notice_period_must_be_positive(days: int) -> None:
    with pytest.raises(InvalidChange, match="at least 1 day"):
        CustomerNotice("chg-1", "acme", notice_period_days=days)
    with pytest.raises(InvalidChange, match="at least 1 day"):
        earliest_effective_date(DELIVERED, days)


def test_naive_delivery_time_is_refused() -> None:
    with pytest.raises(NaiveDatetime):
        earliest_effective_date(datetime(2026, 3, 6, 10))


# --- effective date ------------------------------------------------------------------------------


def test_effective_date_respecting_every_notice_period_is_accepted() -> None:
    assert validate_effective_date(CHANGE, NOTICES) == GLOBEX_DEADLINE


def test_effective_date_shorter_than_one_customers_notice_period_is_refused() -> None:
    with pytest.raises(EffectiveDateTooEarly, match=r"too early for globex \(notice period ends 2026-04-05T10:00"):
        validate_effective_date(CHANGE, NOTICES, ACME_DEADLINE)


def test_effective_date_needs_every_notice_delivered() -> None:
    notices = [NOTICES[0], CustomerNotice("chg-1", "globex", notice_period_days=30)]
    with pytest.raises(EffectiveDateTooEarly, match="no delivered notice yet for globex"):
        validate_effective_date(CHANGE, notices)


def test_effective_date_is_required() -> None:
    change = SubprocessorChange("chg-2", ChangeKind.ADD, "X", frozenset({"acme"}))
    with pytest.raises(InvalidChange, match="no planned effective date"):
        validate_effective_date(change, NOTICES)


def test_a_resent_notice_restarts_the_window() -> None:
    resent = CustomerNotice("chg-1", "acme", delivered_at=utc(2026, 3, 10, 10))
    with pytest.raises(EffectiveDateTooEarly, match="acme"):
        validate_effective_date(CHANGE, [*NOTICES, resent], utc(2026, 3, 22))


# --- objections ----------------------------------------------------------------------------------


def test_objection_inside_the_window_is_recorded() -> None:
    objection = raise_objection(
        CHANGE, NOTICES, customer_id="acme", raised_at=utc(2026, 3, 21, 9, 59), reason="data leaves the EU"
    )
    assert objection == Objection("chg-1", "acme", utc(2026, 3, 21, 9, 59), "data leaves the EU")
    assert not objection.is_resolved


def test_objection_after_the_window_closed_is_refused_with_the_deadline() -> None:
    with pytest.raises(ObjectionWindowClosed, match="closed at 2026-03-21T10:00:00\\+00:00"):
        raise_objection(CHANGE, NOTICES, customer_id="acme", raised_at=ACME_DEADLINE)


def test_each_customer_has_its_own_window() -> None:
    late_for_acme = utc(2026, 3, 25)
    with pytest.raises(ObjectionWindowClosed):
        raise_objection(CHANGE, NOTICES, customer_id="acme", raised_at=late_for_acme)
    assert raise_objection(CHANGE, NOTICES, customer_id="globex", raised_at=late_for_acme).customer_id == "globex"


def test_objection_from_a_customer_not_affected_is_refused() -> None:
    with pytest.raises(CustomerNotAffected, match="customer initech is not affected by change chg-1"):
        raise_objection(CHANGE, NOTICES, customer_id="initech", raised_at=utc(2026, 3, 7))


def test_objection_before_delivery_is_accepted() -> None:
    objection = raise_objection(CHANGE, [], customer_id="acme", raised_at=utc(2026, 3, 1))
    assert objection.customer_id == "acme"


def test_objection_to_a_removal_or_a_final_change_is_refused() -> None:
    removal = SubprocessorChange("chg-3", ChangeKind.REMOVE, "OldCRM Ltd", frozenset({"acme"}))
    with pytest.raises(ObjectionRefused, match="removal cannot be objected to"):
        raise_objection(removal, [], customer_id="acme", raised_at=utc(2026, 3, 7))
    cancelled = CHANGE.moved_to(ChangeState.CANCELLED)
    with pytest.raises(ObjectionRefused, match="already cancelled"):
        raise_objection(cancelled, NOTICES, customer_id="acme", raised_at=utc(2026, 3, 7))


def test_resolving_an_objection_once() -> None:
    objection = raise_objection(CHANGE, NOTICES, customer_id="acme", raised_at=utc(2026, 3, 8))
    resolved = resolve_objection(objection, ObjectionResolution.ALTERNATIVE_ARRANGED, at=utc(2026, 3, 12), note="EU")
    assert resolved.is_resolved
    assert resolved.resolved_at == utc(2026, 3, 12)
    with pytest.raises(ObjectionAlreadyResolved, match="alternative_arranged"):
        resolve_objection(resolved, ObjectionResolution.WITHDRAWN, at=utc(2026, 3, 13))
    with pytest.raises(InvalidChange, match="before it was raised"):
        resolve_objection(objection, ObjectionResolution.WITHDRAWN, at=utc(2026, 3, 1))


# --- going effective -----------------------------------------------------------------------------


def test_cannot_go_effective_while_any_window_is_open() -> None:
    now = utc(2026, 3, 25)
    assert not can_go_effective(CHANGE, NOTICES, [], now)
    assert blocking_reasons(CHANGE, NOTICES, [], now) == [
        "objection window of globex open until 2026-04-05T10:00:00+00:00",
        "planned effective date 2026-04-05T10:00:00+00:00 not reached",
    ]


def test_goes_effective_once_every_window_has_closed() -> None:
    assert can_go_effective(CHANGE, NOTICES, [], GLOBEX_DEADLINE)
    assert not can_go_effective(CHANGE, NOTICES, [], GLOBEX_DEADLINE - timedelta(seconds=1))


def test_an_unresolved_objection_holds_the_change() -> None:
    objection = raise_objection(CHANGE, NOTICES, customer_id="acme", raised_at=utc(2026, 3, 8))
    later = utc(2026, 5, 1)
    assert blocking_reasons(CHANGE, NOTICES, [objection], later) == ["unresolved objection from acme"]
    for resolution in (
        ObjectionResolution.WITHDRAWN,
        ObjectionResolution.ALTERNATIVE_ARRANGED,
        ObjectionResolution.CONTRACT_TERMINATED,
    ):
        resolved = resolve_objection(objection, resolution, at=utc(2026, 3, 20))
        assert can_go_effective(CHANGE, NOTICES, [resolved], later)


def test_an_objection_resolved_by_cancelling_the_change_stops_it() -> None:
    objection = raise_objection(CHANGE, NOTICES, customer_id="globex", raised_at=utc(2026, 3, 8))
    cancelled = resolve_objection(objection, ObjectionResolution.CHANGE_CANCELLED, at=utc(2026, 3, 9))
    assert blocking_reasons(CHANGE, NOTICES, [cancelled], utc(2026, 5, 1)) == [
        "cancelled after the objection of globex"
    ]


def test_objections_to_other_changes_are_ignored() -> None:
    other = Objection("chg-9", "acme", utc(2026, 3, 8))
    assert can_go_effective(CHANGE, NOTICES, [other], utc(2026, 5, 1))


def test_an_undelivered_notice_blocks_the_change() -> None:
    assert blocking_reasons(CHANGE, NOTICES[:1], [], utc(2026, 5, 1)) == ["no notice delivered to globex"]


def test_a_removal_takes_effect_once_noticed_without_a_window() -> None:
    removal = SubprocessorChange(
        "chg-3", ChangeKind.REMOVE, "OldCRM Ltd", frozenset({"acme"}), state=ChangeState.NOTICED
    )
    notice = CustomerNotice("chg-3", "acme", delivered_at=DELIVERED)
    assert can_go_effective(removal, [notice], [], DELIVERED)


def test_a_final_change_cannot_go_effective_again() -> None:
    effective = CHANGE.moved_to(ChangeState.EFFECTIVE)
    assert blocking_reasons(effective, NOTICES, [], utc(2026, 5, 1)) == ["change is already effective"]


# --- states and validation -----------------------------------------------------------------------


def test_the_usual_path_through_the_states() -> None:
    change = SubprocessorChange("chg-4", ChangeKind.ADD, "X", frozenset({"acme"}))
    for target in (ChangeState.NOTICED, ChangeState.OBJECTION_WINDOW_OPEN, ChangeState.HELD, ChangeState.EFFECTIVE):
        change = change.moved_to(target)
    assert change.state is ChangeState.EFFECTIVE


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (ChangeState.PROPOSED, ChangeState.EFFECTIVE),
        (ChangeState.PROPOSED, ChangeState.HELD),
        (ChangeState.EFFECTIVE, ChangeState.CANCELLED),
        (ChangeState.CANCELLED, ChangeState.NOTICED),
    ],
)
def test_illegal_transitions_are_refused(current: ChangeState, target: ChangeState) -> None:
    with pytest.raises(IllegalTransition, match=f"from {current.value} to {target.value}"):
        transition(current, target)


def test_a_replacement_names_what_it_replaces() -> None:
    with pytest.raises(InvalidChange, match="must name the subprocessor it replaces"):
        SubprocessorChange("chg-5", ChangeKind.REPLACE, "NewMail", frozenset({"acme"}))
    with pytest.raises(InvalidChange, match="only a replacement"):
        SubprocessorChange("chg-5", ChangeKind.ADD, "NewMail", frozenset({"acme"}), replaces="OldMail")
    with pytest.raises(InvalidChange, match="cannot replace itself"):
        SubprocessorChange("chg-5", ChangeKind.REPLACE, "NewMail", frozenset({"acme"}), replaces="NewMail")
    change = SubprocessorChange("chg-5", ChangeKind.REPLACE, "NewMail", {"acme"}, replaces="OldMail")  # type: ignore[arg-type]
    assert change.affected_customers == frozenset({"acme"})
