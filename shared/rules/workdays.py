"""Working-day calendars for legal clocks.

Several regimes count in working or business days (CCPA's 10-business-day acknowledgement,
Brazil's 3 business days for a breach notice) or move a deadline that falls on a weekend or
a public holiday to the next working day (EU Regulation 1182/71, Art. 3(4)). Public holidays
differ per country and per year: a calendar is given them as data, or built for a country by
``shared.rules.holidays``; weekends are fixed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

SATURDAY, SUNDAY = 5, 6


@dataclass(frozen=True)
class WorkingCalendar:
    """Weekends plus a set of public holidays; every other day is a working day."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    weekend: frozenset[int] = frozenset({SATURDAY, SUNDAY})

    @classmethod
    def with_holidays(cls, holidays: Iterable[date]) -> WorkingCalendar:
        """A Monday-to-Friday calendar with the given public holidays."""
        return cls(holidays=frozenset(holidays))

    @property
    def description(self) -> str:
        """What the calendar leaves out, for the basis of a deadline ("public holidays of France (FR)")."""
        return "the given public holidays" if self.holidays else "weekends only, no public holidays"

    def holiday_name(self, day: date) -> str | None:
        """The name of the public holiday on ``day``, when the calendar knows one (weekends are not holidays)."""
        return None

    def is_working_day(self, day: date) -> bool:
        """True unless the day is a weekend day or a public holiday."""
        return day.weekday() not in self.weekend and day not in self.holidays

    def next_working_day(self, day: date) -> date:
        """The day itself when it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, start: date, count: int) -> date:
        """The date ``count`` working days after ``start`` (``start`` itself is not counted)."""
        if count < 0:
            raise ValueError("count must not be negative")
        day = start
        remaining = count
        while remaining:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when ``end`` <= ``start``)."""
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


WEEKENDS_ONLY = WorkingCalendar()
