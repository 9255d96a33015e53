"""Public holidays in the legal clocks: worked dates that come out wrong with weekends alone.

Each expected date is counted by hand in a comment. The holidays are those of the ``holidays``
package for the place named (shared.rules.holidays); ``WEEKENDS_ONLY`` shows the date a clock
without them would give.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.dsar.domain import (
    EARLIEST_RECEIPT,
    InvalidCalendar,
    InvalidReceivedAt,
    RequestType,
    calendar_code,
    check_calendar_choice,
    check_received_at,
    compute_deadline,
    get_regime,
    pause_clock,
    resume_clock,
    working_calendar,
)
from services.dsar.domain.jurisdictions import PauseGround
from shared.rules.holidays import UnknownCalendar, holidays_of, parse_calendar_code, public_holidays
from shared.rules.workdays import WEEKENDS_ONLY, WorkingCalendar

A, OBJ = RequestType.ACCESS, RequestType.OBJECTION


def at(day: str, clock: str = "10:00") -> datetime:
    """An aware UTC instant on an ISO day."""
    return datetime.fromisoformat(f"{day}T{clock}+00:00")


def due(regime_id: str, received: str, calendar: WorkingCalendar, request_type: RequestType = A) -> date:
    return compute_deadline(at(received), get_regime(regime_id), request_type, calendar).due_on


def acknowledge(received: str, calendar: WorkingCalendar) -> date | None:
    return compute_deadline(at(received), get_regime("us-ca-ccpa"), A, calendar).acknowledge_on


# --- EU GDPR: one month (Art. 12(3)), a last day on a public holiday moves (Reg. 1182/71 Art. 3(4)) ---

EU = [
    # calendar, received, due with the holidays, due on weekends alone
    # Sun 14 June 2026 + 1 month = Tue 14 July, Fête nationale → Wed 15 July.
    ("FR", "2026-06-14", "2026-07-15", "2026-07-14"),
    # Fri 6 March 2026 + 1 month = Mon 6 April, Easter Monday (lundi de Pâques) → Tue 7 April.
    ("FR", "2026-03-06", "2026-04-07", "2026-04-06"),
    # Wed 3 September 2025 + 1 month = Fri 3 October, Tag der Deutschen Einheit → Sat, Sun → Mon 6 October.
    ("DE", "2025-09-03", "2025-10-06", "2025-10-03"),
    # Wed 25 November 2026 + 1 month = Fri 25 December; 26 December (2. Weihnachtstag) is a Saturday → Mon 28.
    ("DE", "2026-11-25", "2026-12-28", "2026-12-25"),
    # Tue 17 February 2026 + 1 month = Tue 17 March, St Patrick's Day → Wed 18 March.
    ("IE", "2026-02-17", "2026-03-18", "2026-03-17"),
    # Sun 6 December 2026 + 1 month = Wed 6 January 2027: Epiphany is a holiday in Bavaria, not in all Germany.
    ("DE-BY", "2026-12-06", "2027-01-07", "2027-01-06"),
    ("DE", "2026-12-06", "2027-01-06", "2027-01-06"),
]


@pytest.mark.parametrize(("code", "received", "with_holidays", "weekends_only"), EU)
def test_eu_gdpr_last_day_on_a_member_state_holiday_moves(code, received, with_holidays, weekends_only):
    assert due("eu-gdpr", received, public_holidays(code)) == date.fromisoformat(with_holidays)
    assert due("eu-gdpr", received, WEEKENDS_ONLY) == date.fromisoformat(weekends_only)


def test_the_basis_names_the_holiday_and_the_calendar():
    basis = compute_deadline(at("2026-06-14"), get_regime("eu-gdpr"), A, public_holidays("FR")).basis
    assert "= 2026-07-14, a public holiday (National Day), moved to the next working day Wednesday 2026-07-15" in basis
    assert basis.endswith("; working days: public holidays of France (FR)")
    plain = compute_deadline(at("2026-06-14"), get_regime("eu-gdpr"), A, WEEKENDS_ONLY).basis
    assert plain.endswith("; working days: weekends only, no public holidays")
    # A regime that counts calendar days and keeps its last day says nothing of a calendar.
    assert "working days" not in compute_deadline(at("2026-06-14"), get_regime("br-lgpd"), A).basis


# --- UK GDPR: the ICO's corresponding date, a weekend or bank holiday moves it; nations differ --------

UK = [
    # calendar, received, due with the holidays, due on weekends alone
    # ICO: from the day of receipt to the corresponding date: Fri 6 March → Mon 6 April 2026, Easter Monday
    # in England and Wales → Tue 7 April; in Scotland Easter Monday is no bank holiday: Mon 6 April stays.
    ("GB-ENG", "2026-03-06", "2026-04-07", "2026-04-06"),
    ("GB-WLS", "2026-03-06", "2026-04-07", "2026-04-06"),
    ("GB-SCT", "2026-03-06", "2026-04-06", "2026-04-06"),
    # Sat 25 April → Mon 25 May 2026, the late May (spring) bank holiday → Tue 26 May.
    ("GB-ENG", "2026-04-25", "2026-05-26", "2026-05-25"),
    # Wed 25 November → Fri 25 December (Christmas), weekend, Mon 28 December (Boxing Day, observed) → Tue 29.
    ("GB-ENG", "2026-11-25", "2026-12-29", "2026-12-25"),
    # Fri 30 October → Mon 30 November 2026, St Andrew's Day: a bank holiday in Scotland only → Tue 1 December.
    ("GB-SCT", "2026-10-30", "2026-12-01", "2026-11-30"),
    ("GB-ENG", "2026-10-30", "2026-11-30", "2026-11-30"),
]


@pytest.mark.parametrize(("code", "received", "with_holidays", "weekends_only"), UK)
def test_uk_gdpr_corresponding_date_on_a_bank_holiday_moves(code, received, with_holidays, weekends_only):
    assert due("uk-gdpr", received, public_holidays(code)) == date.fromisoformat(with_holidays)
    assert due("uk-gdpr", received, WEEKENDS_ONLY) == date.fromisoformat(weekends_only)


def test_uk_clock_restarts_from_the_identity_and_lands_after_the_bank_holiday():
    # Art. 12A UK GDPR / ICO: the month runs again from the day the identity arrives, Sat 25 April 2026:
    # → Mon 25 May, the spring bank holiday → Tue 26 May (Mon 25 May on weekends alone).
    regime, england = get_regime("uk-gdpr"), public_holidays("GB-ENG")
    received = compute_deadline(at("2026-04-01"), regime, A, england)
    paused = pause_clock(received, regime, paused_at=at("2026-04-01"), ground=PauseGround.IDENTITY)
    assert resume_clock(paused, regime, resumed_at=at("2026-04-25"), calendar=england).due_on == date(2026, 5, 26)
    assert resume_clock(paused, regime, resumed_at=at("2026-04-25")).due_on == date(2026, 5, 25)


# --- CCPA: 10 business days to acknowledge (11 CCR § 7021(a)), 15 to honour an opt-out (§ 7026(f)) ------

CALIFORNIA = [
    # received, acknowledge by with California's holidays, on weekends alone
    # Thu 19 Nov 2026: Fri 20 (1), Mon 23 (2), Tue 24 (3), Wed 25 (4), Thu 26 Thanksgiving and Fri 27 (the day
    # after, a California state holiday) skipped, Mon 30 (5), Tue 1 Dec (6), Wed 2 (7), Thu 3 (8), Fri 4 (9),
    # Mon 7 Dec (10). Weekends alone: Thu 26 (5), Fri 27 (6), Mon 30 (7), Tue 1 (8), Wed 2 (9), Thu 3 Dec (10).
    ("2026-11-19", "2026-12-07", "2026-12-03"),
    # Wed 1 July 2026: Thu 2 (1), Fri 3 skipped (Independence Day observed, 4 July is a Saturday), Mon 6 (2)
    # … Thu 16 July (10). Weekends alone: Fri 3 (2) … Wed 15 July (10).
    ("2026-07-01", "2026-07-16", "2026-07-15"),
    # Wed 25 March 2026: Thu 26 (1), Fri 27 (2), Mon 30 (3), Tue 31 César Chávez Day skipped, Wed 1 Apr (4),
    # Thu 2 (5), Fri 3 (6; Good Friday is no California holiday), Mon 6 (7), Tue 7 (8), Wed 8 (9), Thu 9 April (10).
    ("2026-03-25", "2026-04-09", "2026-04-08"),
]


@pytest.mark.parametrize(("received", "with_holidays", "weekends_only"), CALIFORNIA)
def test_ccpa_acknowledgement_counts_california_business_days(received, with_holidays, weekends_only):
    assert acknowledge(received, public_holidays("US-CA")) == date.fromisoformat(with_holidays)
    assert acknowledge(received, WEEKENDS_ONLY) == date.fromisoformat(weekends_only)


def test_ccpa_holidays_include_cesar_chavez_day_and_the_day_after_thanksgiving():
    names = holidays_of("US-CA", 2026)
    assert names[date(2026, 3, 31)] == "Cesar Chavez Day"
    assert names[date(2026, 11, 27)] == "Day After Thanksgiving"
    assert date(2026, 11, 27) not in holidays_of("US", 2026)  # federal holidays alone do not know it


def test_ccpa_opt_out_counts_fifteen_business_days_and_the_due_date_stays_in_calendar_days():
    # From Thu 19 Nov 2026: the 10th business day is Mon 7 Dec (above); Tue 8 (11), Wed 9 (12), Thu 10 (13),
    # Fri 11 (14), Mon 14 Dec (15). Weekends alone: 10th Thu 3 Dec, Fri 4 (11) … Thu 10 Dec (15).
    california = public_holidays("US-CA")
    assert due("us-ca-ccpa", "2026-11-19", california, OBJ) == date(2026, 12, 14)
    assert due("us-ca-ccpa", "2026-11-19", WEEKENDS_ONLY, OBJ) == date(2026, 12, 10)
    # 45 calendar days, a last day on a holiday kept: Thu 19 Nov + 45 = Sun 3 Jan 2027, either way.
    assert due("us-ca-ccpa", "2026-11-19", california) == date(2027, 1, 3)
    basis = compute_deadline(at("2026-11-19"), get_regime("us-ca-ccpa"), A, california).basis
    assert "receipt acknowledged within 10 business days (11 CCR 7021(a)), by 2026-12-07" in basis
    assert "public holidays of California, United States (US-CA)" in basis


# --- choosing a calendar ----------------------------------------------------------------------------


def test_defaults_per_regime():
    assert calendar_code(get_regime("eu-gdpr"), {}) is None  # no member state named: weekends only
    assert calendar_code(get_regime("uk-gdpr"), {}) == "GB-ENG"
    assert calendar_code(get_regime("us-ca-ccpa"), {}) == "US-CA"
    assert calendar_code(get_regime("eu-gdpr"), {"eu-gdpr": "FR"}) == "FR"
    assert calendar_code(get_regime("br-lgpd"), {"br-lgpd": "BR"}) is None  # its clock counts no working day
    assert working_calendar(None) is WEEKENDS_ONLY


@pytest.mark.parametrize(
    ("regime_id", "code", "canonical"),
    [("eu-gdpr", "fr", "FR"), ("eu-gdpr", "DE-BY", "DE-BY"), ("eu-gdpr", "NO", "NO"), ("uk-gdpr", "gb-sct", "GB-SCT")],
)
def test_a_calendar_of_the_regime_is_accepted(regime_id, code, canonical):
    assert check_calendar_choice(regime_id, code) == canonical


@pytest.mark.parametrize(
    ("regime_id", "code", "message"),
    [
        ("eu-gdpr", "US-CA", "eu-gdpr applies in AT, BE"),
        ("eu-gdpr", "XX", "no public-holiday calendar for the country 'XX'"),
        ("eu-gdpr", "FR-ZZ", "FR has no region 'ZZ'"),
        ("uk-gdpr", "GB", "name it, e.g. GB-ENG"),
        ("uk-gdpr", "IE", "uk-gdpr applies in GB"),
        ("us-ca-ccpa", "US", "name it, e.g. US-CA"),
        ("br-lgpd", "BR", "a holiday calendar would change nothing"),
        ("mars-law", "FR", "unknown regime 'mars-law'"),
    ],
)
def test_a_calendar_that_cannot_apply_is_refused_naming_the_field(regime_id, code, message):
    with pytest.raises(InvalidCalendar, match=message) as refused:
        check_calendar_choice(regime_id, code)
    assert refused.value.field == f"calendars.{regime_id}"


def test_calendar_codes_are_parsed_and_described():
    assert str(parse_calendar_code(" gb-eng ")) == "GB-ENG"
    assert public_holidays("gb-eng") is public_holidays("GB-ENG")
    assert public_holidays("GB-ENG").description == "public holidays of England, United Kingdom (GB-ENG)"
    assert public_holidays("IE").holiday_name(date(2026, 3, 17)) == "Saint Patrick's Day"
    assert public_holidays("IE").holiday_name(date(2026, 3, 18)) is None
    for bad in ("", "FRA", "F", "GB_ENG", "GB-Zone A"):
        with pytest.raises(UnknownCalendar):
            parse_calendar_code(bad)


# --- the time a request arrived --------------------------------------------------------------------


def test_received_at_may_be_last_week_or_a_few_seconds_ahead_but_not_the_future():
    now = at("2026-03-09", "12:00")
    last_week = datetime.fromisoformat("2026-03-02T09:30:00+01:00")
    assert check_received_at(last_week, now) == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    assert check_received_at(now + timedelta(minutes=4), now) == now  # a client's clock ahead: taken as now
    assert check_received_at(EARLIEST_RECEIPT, now) == EARLIEST_RECEIPT
    for wrong, why in [
        (now + timedelta(minutes=6), "in the future"),
        (EARLIEST_RECEIPT - timedelta(seconds=1), "before 2000-01-01"),
        (datetime(2026, 3, 2, 9, 30), "no timezone"),
    ]:
        with pytest.raises(InvalidReceivedAt, match=why) as refused:
            check_received_at(wrong, now)
        assert refused.value.field == "received_at"


def test_a_request_received_last_week_counts_from_its_day_of_receipt():
    # Received Mon 2 March 2026 by post, entered on 9 March: + 1 month = Thu 2 April, not Thu 9 April.
    received = check_received_at(at("2026-03-02", "09:00"), at("2026-03-09", "12:00"))
    assert compute_deadline(received, get_regime("eu-gdpr"), A, public_holidays("FR")).due_on == date(2026, 4, 2)
