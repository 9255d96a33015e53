"""Worked dates for every regime's DSAR clock: due dates, acknowledgements, extensions, pauses, status."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.dsar.domain import (
    REGIMES,
    ClockPause,
    ClockPauseNotAvailable,
    ClockStateError,
    DeadlineStatus,
    ExtensionAlreadyUsed,
    ExtensionNotAvailable,
    ExtensionNoticeLate,
    ExtensionNoticeMissing,
    ExtensionTooLong,
    InvalidExtension,
    InvalidRegime,
    InvalidTimestamp,
    PauseGround,
    PauseMode,
    Period,
    PeriodUnit,
    Regime,
    RequestType,
    RequestTypeNotCovered,
    UnknownRegime,
    business_days,
    compute_deadline,
    days,
    deadline_status,
    extend_deadline,
    get_regime,
    is_acknowledgement_overdue,
    is_approaching,
    is_overdue,
    months,
    pause_clock,
    resume_clock,
)
from shared.rules.workdays import WorkingCalendar

A, E, OBJ, P = RequestType.ACCESS, RequestType.ERASURE, RequestType.OBJECTION, RequestType.PORTABILITY
# Public holidays used below (2026): France, England and Wales, California (Martin Luther King Jr. Day).
FRANCE = WorkingCalendar.with_holidays(date(2026, 5, d) for d in (1, 8, 14, 25))
ENGLAND = WorkingCalendar.with_holidays(
    [date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 4), date(2026, 5, 25), date(2026, 12, 25), date(2026, 12, 28)]
)
CALIFORNIA = WorkingCalendar.with_holidays([date(2026, 1, 19)])


def at(day: str, clock: str = "10:00") -> datetime:
    """An aware UTC instant on an ISO day."""
    return datetime.fromisoformat(f"{day}T{clock}+00:00")


def end_of(day: str) -> datetime:
    """The last instant of an ISO day in UTC."""
    return datetime.combine(date.fromisoformat(day), time.max, tzinfo=UTC)


def deadline(regime_id: str, received: str, request_type: RequestType = A, calendar: WorkingCalendar | None = None):
    return compute_deadline(at(received), get_regime(regime_id), request_type, calendar or WorkingCalendar())


# --- due dates and acknowledgements, one or more worked dates per regime -----------------------------

WORKED = [
    # regime, request type, received, due, acknowledge by
    ("eu-gdpr", A, "2026-03-15", "2026-04-15", None),
    ("eu-gdpr", A, "2026-03-31", "2026-04-30", None),  # no 31 April: last day of the month
    ("eu-gdpr", E, "2026-01-31", "2026-03-02", None),  # clamped to Sat 28 Feb, rolled to Monday
    ("eu-gdpr", A, "2026-04-09", "2026-05-11", None),  # Sat 9 May rolls to Monday
    ("eu-gdpr", A, "2026-04-10", "2026-05-11", None),  # Sun 10 May rolls to Monday
    ("eu-gdpr", A, "2028-01-31", "2028-02-29", None),  # leap year: Tue 29 Feb
    ("uk-gdpr", A, "2026-06-03", "2026-07-03", None),  # corresponding date, a Friday
    ("uk-gdpr", A, "2026-09-03", "2026-10-05", None),  # Sat 3 Oct rolls to Monday
    ("us-ca-ccpa", A, "2026-01-09", "2026-02-23", "2026-01-23"),  # 45 days; 10 business days over 2 weekends
    ("us-ca-ccpa", E, "2026-03-25", "2026-05-09", "2026-04-08"),  # Saturday kept: roll-over unconfirmed
    ("us-ca-ccpa", OBJ, "2026-01-09", "2026-01-30", None),  # opt-out of sale: 15 business days, no ack
    ("us-va-vcdpa", A, "2026-01-09", "2026-02-23", None),
    ("us-co-cpa", A, "2026-02-01", "2026-03-18", None),
    ("us-ct-ctdpa", A, "2026-06-30", "2026-08-14", None),
    ("br-lgpd", A, "2026-01-09", "2026-01-24", None),  # 15 calendar days, Saturday kept
    ("ca-pipeda", A, "2026-01-09", "2026-02-08", None),  # 30 days, Sunday kept
    ("ca-qc-law25", A, "2026-02-10", "2026-03-12", None),
    ("ch-nfadp", A, "2026-01-09", "2026-02-08", None),
    ("jp-appi", A, "2026-01-09", "2026-01-23", None),  # product default for "without delay"
    ("sg-pdpa", A, "2026-03-01", "2026-03-31", None),
    ("au-privacy-act", A, "2026-12-15", "2027-01-14", None),
]


@pytest.mark.parametrize(("regime_id", "request_type", "received", "due", "ack"), WORKED)
def test_worked_due_and_acknowledgement_dates(regime_id, request_type, received, due, ack):
    result = deadline(regime_id, received, request_type)
    assert result.due_on == date.fromisoformat(due)
    assert result.due_at == end_of(due)
    assert result.acknowledge_on == (date.fromisoformat(ack) if ack else None)


def test_every_regime_has_a_worked_date():
    assert {row[0] for row in WORKED} == set(REGIMES)


def test_gdpr_basis_cites_the_rule_and_the_roll_over():
    basis = deadline("eu-gdpr", "2026-01-31").basis
    assert "GDPR Art. 12(3)" in basis
    assert "2026-02-28, a Saturday, moved to the next working day Monday 2026-03-02" in basis
    assert "1182/71" in basis


def test_time_of_receipt_does_not_change_the_day():
    gdpr = get_regime("eu-gdpr")
    for clock in ("00:00", "23:59:59"):
        assert compute_deadline(at("2026-03-15", clock), gdpr, A).due_on == date(2026, 4, 15)


@pytest.mark.parametrize(
    ("received", "with_holidays", "without"),
    [
        ("2026-04-01", "2026-05-04", "2026-05-01"),  # Fri 1 May is a holiday, then a weekend
        ("2026-04-08", "2026-05-11", "2026-05-08"),  # Fri 8 May is a holiday
        ("2026-04-14", "2026-05-15", "2026-05-14"),  # Ascension Thursday
    ],
)
def test_gdpr_holiday_moves_due_date_to_next_working_day(received, with_holidays, without):
    assert deadline("eu-gdpr", received, calendar=FRANCE).due_on == date.fromisoformat(with_holidays)
    assert deadline("eu-gdpr", received).due_on == date.fromisoformat(without)
    assert "public holiday" in deadline("eu-gdpr", received, calendar=FRANCE).basis


@pytest.mark.parametrize(
    ("received", "due"),
    [("2026-03-06", "2026-04-07"), ("2026-11-25", "2026-12-29")],  # Easter Monday; Christmas then Boxing Day (sub.)
)
def test_uk_bank_holidays(received, due):
    assert deadline("uk-gdpr", received, calendar=ENGLAND).due_on == date.fromisoformat(due)


def test_local_zone_decides_the_day_of_receipt():
    paris = ZoneInfo("Europe/Paris")
    # 23:30 UTC on 14 March is already 15 March in Paris.
    result = compute_deadline(at("2026-03-14", "23:30"), get_regime("eu-gdpr"), A, zone=paris)
    assert result.due_on == date(2026, 4, 15)
    assert result.due_at == datetime(2026, 4, 15, 21, 59, 59, 999999, tzinfo=UTC)  # CEST is UTC+2
    assert compute_deadline(at("2026-03-14", "23:30"), get_regime("eu-gdpr"), A).due_on == date(2026, 4, 14)


def test_ccpa_acknowledgement_skips_weekends_and_holidays_but_due_date_does_not():
    assert deadline("us-ca-ccpa", "2026-01-10").acknowledge_on == date(2026, 1, 23)  # received on a Saturday
    with_holiday = deadline("us-ca-ccpa", "2026-01-09", calendar=CALIFORNIA)
    assert with_holiday.acknowledge_on == date(2026, 1, 26)  # MLK Day, Mon 19 Jan, is not a business day
    assert with_holiday.due_on == date(2026, 2, 23)
    assert deadline("us-ca-ccpa", "2026-01-09", OBJ, CALIFORNIA).due_on == date(2026, 2, 2)


def test_uncovered_request_type_and_naive_time_are_refused():
    with pytest.raises(RequestTypeNotCovered, match="us-ca-ccpa sets no deadline for portability"):
        deadline("us-ca-ccpa", "2026-01-09", P)
    with pytest.raises(RequestTypeNotCovered):
        deadline("ca-pipeda", "2026-01-09", E)
    with pytest.raises(InvalidTimestamp, match="no timezone"):
        compute_deadline(datetime(2026, 1, 9, 10), get_regime("eu-gdpr"), A)


# --- extensions ------------------------------------------------------------------------------------


def extend(result, reasons: str | None, now: str, **kwargs):
    regime = get_regime(result.regime_id)
    sent = at(reasons) if reasons else None
    return extend_deadline(result, regime, reasons_sent_at=sent, now=at(now, "12:00"), **kwargs)


def test_gdpr_extension_counts_three_months_from_receipt():
    first = deadline("eu-gdpr", "2026-08-31")
    extended = extend(first, "2026-09-20", "2026-09-21")
    assert first.due_on == date(2026, 9, 30)
    assert extended.due_on == date(2026, 11, 30)
    assert extended.initial_due_at == end_of("2026-09-30")
    assert extended.extended_by == months(2)
    assert "extended by 2 months" in extended.basis


def test_gdpr_reasons_may_be_sent_until_the_rolled_first_deadline():
    # 28 Feb 2026 is a Saturday, so the first period runs to Monday 2 March; reasons on Sunday 1 March count.
    extended = extend(deadline("eu-gdpr", "2026-01-31"), "2026-03-01", "2026-03-01")
    assert extended.due_on == date(2026, 4, 30)


def test_second_extension_is_refused():
    extended = extend(deadline("eu-gdpr", "2026-08-31"), "2026-09-20", "2026-09-21")
    with pytest.raises(ExtensionAlreadyUsed, match="allows one extension"):
        extend(extended, "2026-10-01", "2026-10-02")


def test_extension_refused_when_first_deadline_passed_without_reasons():
    with pytest.raises(ExtensionNoticeMissing, match="can no longer be extended"):
        extend(deadline("eu-gdpr", "2026-08-31"), None, "2026-10-01")


def test_extension_needs_reasons_sent_first():
    with pytest.raises(ExtensionNoticeMissing, match="send the subject the reasons"):
        extend(deadline("eu-gdpr", "2026-08-31"), None, "2026-09-10")


def test_extension_refused_when_reasons_reached_the_subject_late():
    with pytest.raises(ExtensionNoticeLate, match="after the first deadline"):
        extend(deadline("eu-gdpr", "2026-08-31"), "2026-10-01", "2026-10-01")


def test_extension_reasons_cannot_be_dated_in_the_future():
    with pytest.raises(InvalidTimestamp):
        extend(deadline("eu-gdpr", "2026-08-31"), "2026-09-25", "2026-09-20")


def test_extension_beyond_maximum_or_in_wrong_unit_is_refused_shorter_is_allowed():
    first = deadline("eu-gdpr", "2026-08-31")
    with pytest.raises(ExtensionTooLong, match="maximum of 3 months"):
        extend(first, "2026-09-20", "2026-09-21", length=months(3))
    with pytest.raises(InvalidExtension):
        extend(first, "2026-09-20", "2026-09-21", length=days(30))
    # 31 Aug + 2 months = Sat 31 Oct, rolled to Mon 2 Nov.
    assert extend(first, "2026-09-20", "2026-09-21", length=months(1)).due_on == date(2026, 11, 2)


def test_ccpa_extension_to_ninety_days():
    first = deadline("us-ca-ccpa", "2026-01-09")
    assert extend(first, "2026-02-20", "2026-02-20").due_on == date(2026, 4, 9)
    assert extend(first, "2026-02-20", "2026-02-20", length=days(30)).due_on == date(2026, 3, 25)
    with pytest.raises(ExtensionTooLong):
        extend(first, "2026-02-20", "2026-02-20", length=days(46))
    assert extend(first, "2026-02-20", "2026-02-20").acknowledge_on == date(2026, 1, 23)  # unchanged


@pytest.mark.parametrize(("regime_id", "request_type"), [("us-ca-ccpa", OBJ), ("br-lgpd", A), ("jp-appi", A)])
def test_regimes_without_extension(regime_id, request_type):
    with pytest.raises(ExtensionNotAvailable):
        extend(deadline(regime_id, "2026-01-09", request_type), "2026-01-10", "2026-01-10")


@pytest.mark.parametrize("regime_id", ["us-va-vcdpa", "us-co-cpa", "us-ct-ctdpa"])
def test_us_state_extension_by_45_days(regime_id):
    assert extend(deadline(regime_id, "2026-01-09"), "2026-02-01", "2026-02-01").due_on == date(2026, 4, 9)


def test_pipeda_extension_and_late_notice():
    first = deadline("ca-pipeda", "2026-01-09")
    assert extend(first, "2026-02-06", "2026-02-06").due_on == date(2026, 3, 10)
    with pytest.raises(ExtensionNoticeLate):
        extend(first, "2026-02-09", "2026-02-09")  # the 30 days ended on Sunday 8 February


def test_stated_period_extensions_switzerland_and_singapore():
    swiss = deadline("ch-nfadp", "2026-01-09")
    with pytest.raises(InvalidExtension, match="give its length"):
        extend(swiss, "2026-02-01", "2026-02-01")
    assert extend(swiss, "2026-02-01", "2026-02-01", length=days(30)).due_on == date(2026, 3, 10)
    assert extend(swiss, "2026-02-01", "2026-02-01", length=days(60)).due_on == date(2026, 4, 9)  # no cap
    singapore = deadline("sg-pdpa", "2026-03-01")
    assert extend(singapore, "2026-03-20", "2026-03-20", length=days(15)).due_on == date(2026, 4, 15)


# --- pausing while identity is awaited -------------------------------------------------------------


def test_uk_clock_restarts_when_identity_arrives():
    uk = get_regime("uk-gdpr")
    first = deadline("uk-gdpr", "2026-01-15")
    assert first.due_on == date(2026, 2, 16)  # Sun 15 Feb rolls to Monday
    paused = pause_clock(first, uk, paused_at=at("2026-01-15", "11:00"))
    assert deadline_status(paused, at("2026-02-20")) is DeadlineStatus.PAUSED
    assert not is_overdue(paused, at("2026-02-20"))
    resumed = resume_clock(paused, uk, resumed_at=at("2026-02-02", "09:00"))
    assert resumed.clock_started_on == date(2026, 2, 2)
    assert resumed.due_on == date(2026, 3, 2)
    assert "the day the awaited information arrived on 2026-02-02" in resumed.basis
    assert not resumed.is_paused


def test_uk_restart_on_a_saturday_and_extension_from_the_restart():
    uk = get_regime("uk-gdpr")
    paused = pause_clock(deadline("uk-gdpr", "2026-01-15"), uk, paused_at=at("2026-01-16"))
    assert resume_clock(paused, uk, resumed_at=at("2026-01-31")).due_on == date(2026, 3, 2)  # Sat 28 Feb
    resumed = resume_clock(paused, uk, resumed_at=at("2026-02-02"), calendar=ENGLAND)
    extended = extend_deadline(resumed, uk, reasons_sent_at=at("2026-02-20"), now=at("2026-02-20"))
    assert extended.due_on == date(2026, 5, 4)  # 2 Feb + 3 months = Sat 2 May
    extended = extend_deadline(resumed, uk, reasons_sent_at=at("2026-02-20"), now=at("2026-02-20"), calendar=ENGLAND)
    assert extended.due_on == date(2026, 5, 5)  # Mon 4 May is the Early May bank holiday


@pytest.mark.parametrize("regime_id", ["us-ca-ccpa", "eu-gdpr", "br-lgpd"])
def test_regimes_whose_clock_keeps_running(regime_id):
    with pytest.raises(ClockPauseNotAvailable, match="keeps running"):
        pause_clock(deadline(regime_id, "2026-01-09"), get_regime(regime_id), paused_at=at("2026-01-10"))


def test_tenant_suspend_policy_moves_the_due_date_by_the_days_waited():
    gdpr = get_regime("eu-gdpr").override(clock_pause=ClockPause(PauseMode.SUSPEND, frozenset({PauseGround.IDENTITY})))
    assert "clock_pause" not in gdpr.verify
    first = compute_deadline(at("2026-03-02"), gdpr, A)
    assert first.due_on == date(2026, 4, 2)
    once = resume_clock(pause_clock(first, gdpr, paused_at=at("2026-03-05")), gdpr, resumed_at=at("2026-03-12"))
    assert once.due_on == date(2026, 4, 9)  # 7 days waited
    twice = resume_clock(pause_clock(once, gdpr, paused_at=at("2026-03-20")), gdpr, resumed_at=at("2026-03-23"))
    assert twice.paused_days == 10
    assert twice.due_on == date(2026, 4, 13)  # Sun 12 April rolls to Monday
    with pytest.raises(ClockPauseNotAvailable, match="only while awaiting: identity"):
        pause_clock(first, gdpr, paused_at=at("2026-03-05"), ground=PauseGround.FEE)


def test_pause_and_resume_refuse_impossible_moves():
    uk = get_regime("uk-gdpr")
    first = deadline("uk-gdpr", "2026-01-15")
    paused = pause_clock(first, uk, paused_at=at("2026-01-16"))
    with pytest.raises(ClockStateError, match="already paused"):
        pause_clock(paused, uk, paused_at=at("2026-01-17"))
    with pytest.raises(ClockStateError, match="not paused"):
        resume_clock(first, uk, resumed_at=at("2026-01-17"))
    with pytest.raises(InvalidTimestamp):
        resume_clock(paused, uk, resumed_at=at("2026-01-15"))
    with pytest.raises(InvalidTimestamp):
        pause_clock(first, uk, paused_at=at("2026-01-14"))
    with pytest.raises(ClockStateError, match="deadline passed on 2026-02-16"):
        pause_clock(first, uk, paused_at=at("2026-02-17"))
    with pytest.raises(ClockStateError, match="resume it"):
        extend_deadline(paused, uk, reasons_sent_at=at("2026-01-16"), now=at("2026-01-16"))
    with pytest.raises(InvalidRegime, match="computed under uk-gdpr"):
        pause_clock(first, get_regime("eu-gdpr"), paused_at=at("2026-01-16"))


# --- approaching and overdue -----------------------------------------------------------------------


def test_status_through_the_last_week():
    due = deadline("eu-gdpr", "2026-01-31")  # due Monday 2 March 2026, end of day
    assert deadline_status(due, at("2026-02-23", "12:00")) is DeadlineStatus.ON_TRACK
    assert is_approaching(due, at("2026-02-24", "00:00"))
    assert deadline_status(due, at("2026-03-02", "23:59")) is DeadlineStatus.APPROACHING
    assert not is_overdue(due, at("2026-03-02", "23:59:59"))
    assert is_overdue(due, at("2026-03-03", "00:00"))
    assert not is_approaching(due, at("2026-03-03", "00:00"))
    assert is_approaching(due, at("2026-02-17", "00:00"), within=timedelta(days=14))


def test_acknowledgement_overdue():
    ccpa = deadline("us-ca-ccpa", "2026-01-09")
    assert not is_acknowledgement_overdue(ccpa, at("2026-01-23", "23:00"))
    assert is_acknowledgement_overdue(ccpa, at("2026-01-24", "00:00"))
    assert not is_acknowledgement_overdue(deadline("eu-gdpr", "2026-01-09"), at("2026-12-31"))
    with pytest.raises(InvalidTimestamp):
        is_overdue(ccpa, datetime(2026, 1, 24))


# --- the rule table ----------------------------------------------------------------------------------

FIELDS = set(Regime.__dataclass_fields__)


@pytest.mark.parametrize("regime", REGIMES.values(), ids=list(REGIMES))
def test_regime_table_is_complete(regime):
    assert regime.authority.name
    assert regime.source
    assert regime.respond_within.source
    assert set(regime.verify) <= FIELDS  # so an override can clear each flag


@pytest.mark.parametrize(
    ("regime_id", "flagged"),
    [
        ("eu-gdpr", "clock_pause"),
        ("uk-gdpr", "clock_pause"),
        ("us-ca-ccpa", "acknowledge_within"),
        ("us-co-cpa", "appeal_within"),
        ("br-lgpd", "respond_within"),
        ("ca-qc-law25", "extension"),
        ("ch-nfadp", "extension"),
        ("jp-appi", "respond_within"),
        ("sg-pdpa", "extension"),
        ("au-privacy-act", "respond_within"),
    ],
)
def test_unconfirmed_values_are_flagged(regime_id, flagged):
    assert flagged in get_regime(regime_id).verify


def test_override_replaces_a_flagged_default():
    lgpd = get_regime("br-lgpd").override(respond_within=business_days(15))
    assert "respond_within" not in lgpd.verify
    assert "computation" in lgpd.verify
    assert compute_deadline(at("2026-01-09"), lgpd, A).due_on == date(2026, 1, 30)
    assert get_regime("br-lgpd").respond_within == days(15)  # the table itself is untouched


def test_inconsistent_rules_are_refused():
    with pytest.raises(InvalidRegime, match="unknown fields"):
        get_regime("eu-gdpr").override(respond_in=months(1))
    with pytest.raises(InvalidRegime, match="calendar_days"):
        get_regime("eu-gdpr").override(respond_within=days(30))  # the 2-month extension no longer fits
    with pytest.raises(InvalidRegime):
        Period(0, PeriodUnit.MONTHS)
    with pytest.raises(UnknownRegime, match="known: au-privacy-act"):
        get_regime("xx-none")


def test_period_wording():
    assert [str(months(1)), str(months(3)), str(days(45)), str(business_days(10))] == [
        "1 month",
        "3 months",
        "45 calendar days",
        "10 business days",
    ]
