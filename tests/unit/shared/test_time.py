"""ISO 8601 durations, working-day calendars and the injectable clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from shared.rules.clock import ManualClock, ensure_utc
from shared.rules.durations import Duration, InvalidDuration, add_duration, parse_duration, subtract_duration
from shared.rules.workdays import WEEKENDS_ONLY, WorkingCalendar


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P3Y", Duration(years=3)),
        ("P13M", Duration(months=13)),
        ("P90D", Duration(days=90)),
        ("P2W", Duration(days=14)),
        ("PT72H", Duration(hours=72)),
        ("P1Y6M10DT2H30M", Duration(years=1, months=6, days=10, hours=2, minutes=30)),
    ],
)
def test_parse_duration(text: str, expected: Duration) -> None:
    assert parse_duration(text) == expected
    assert parse_duration(expected.isoformat()) == expected


@pytest.mark.parametrize("text", ["", "P", "3Y", "P-1D", "PT", "P0D", "P1.5Y", "1 year", "PT1H2D"])
def test_malformed_or_zero_durations_are_refused(text: str) -> None:
    with pytest.raises(InvalidDuration):
        parse_duration(text)


def test_calendar_months_clamp_to_month_end() -> None:
    assert add_duration(date(2026, 1, 31), parse_duration("P1M")) == date(2026, 2, 28)
    assert add_duration(date(2024, 2, 29), parse_duration("P3Y")) == date(2027, 2, 28)
    assert add_duration(date(2025, 9, 21), parse_duration("P13M")) == date(2026, 10, 21)
    assert subtract_duration(date(2026, 11, 21), parse_duration("P3Y")) == date(2023, 11, 21)
    start = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
    assert add_duration(start, parse_duration("PT72H")) == datetime(2026, 3, 9, 15, 0, tzinfo=UTC)


def test_working_days_skip_weekends_and_holidays() -> None:
    assert WEEKENDS_ONLY.next_working_day(date(2026, 2, 28)) == date(2026, 3, 2)
    assert WEEKENDS_ONLY.add_working_days(date(2026, 3, 5), 3) == date(2026, 3, 10)
    easter = WorkingCalendar.with_holidays([date(2026, 4, 6)])
    assert easter.add_working_days(date(2026, 4, 3), 1) == date(2026, 4, 7)
    assert easter.working_days_between(date(2026, 4, 3), date(2026, 4, 10)) == 4


def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.now() == clock.now()
    assert clock.advance(timedelta(hours=72)) == datetime(2026, 1, 4, tzinfo=UTC)
    paris = timezone(timedelta(hours=1))
    clock.set(datetime(2026, 1, 5, 10, 0, tzinfo=paris))
    assert clock.now() == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        ensure_utc(datetime(2026, 1, 1))


def test_as_json_writes_dates_and_datetimes_as_iso_text() -> None:
    """A date in a JSONB column (a subprocessor's DPA signature day) once failed the insert with a 500."""
    import uuid
    from datetime import date

    from shared.runtime.db import as_json

    value = {"dpa_signed_on": date(2026, 1, 15), "at": datetime(2026, 1, 15, 9, 0, tzinfo=UTC), "id": uuid.UUID(int=1)}
    assert as_json(value) == {
        "dpa_signed_on": "2026-01-15",
        "at": "2026-01-15T09:00:00+00:00",
        "id": "00000000-0000-0000-0000-000000000001",
    }
