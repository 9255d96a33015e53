"""ISO 8601 durations (``P3Y``, ``P13M``, ``P90D``, ``PT72H``) and calendar-correct arithmetic.

Retention periods, consent validity and legal clocks are written as ISO 8601 durations.
Years and months are calendar units: adding ``P1M`` to 31 January gives the last day of
February, never 3 March.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

_DURATION = re.compile(
    r"^P(?!$)"
    r"(?:(?P<years>\d+)Y)?"
    r"(?:(?P<months>\d+)M)?"
    r"(?:(?P<weeks>\d+)W)?"
    r"(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)"
    r"(?:(?P<hours>\d+)H)?"
    r"(?:(?P<minutes>\d+)M)?"
    r"(?:(?P<seconds>\d+)S)?"
    r")?$"
)

_D = TypeVar("_D", date, datetime)


class InvalidDuration(ValueError):
    """Raised when a text is not a positive ISO 8601 duration."""


@dataclass(frozen=True, slots=True)
class Duration:
    """A calendar duration: years and months stay calendar units, the rest is exact time."""

    years: int = 0
    months: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: int = 0

    @property
    def total_months(self) -> int:
        """Years and months expressed as months."""
        return self.years * 12 + self.months

    @property
    def exact(self) -> timedelta:
        """The part of the duration that is exact time (days and smaller)."""
        return timedelta(days=self.days, hours=self.hours, minutes=self.minutes, seconds=self.seconds)

    def is_zero(self) -> bool:
        """True when the duration adds nothing."""
        return self.total_months == 0 and self.exact == timedelta(0)

    def isoformat(self) -> str:
        """The canonical ISO 8601 text of this duration."""
        text = "P"
        for value, unit in ((self.years, "Y"), (self.months, "M"), (self.days, "D")):
            if value:
                text += f"{value}{unit}"
        clock = "".join(
            f"{value}{unit}" for value, unit in ((self.hours, "H"), (self.minutes, "M"), (self.seconds, "S")) if value
        )
        if clock:
            text += "T" + clock
        return text if text != "P" else "PT0S"

    def __str__(self) -> str:
        return self.isoformat()


def parse_duration(text: str) -> Duration:
    """Parse an ISO 8601 duration such as ``P3Y``, ``P1Y6M`` or ``PT72H``; reject zero and malformed ones."""
    match = _DURATION.match(text.strip().upper()) if isinstance(text, str) else None
    if match is None:
        raise InvalidDuration(f"{text!r} is not an ISO 8601 duration (examples: P3Y, P13M, P90D, PT72H)")
    parts = {name: int(value) for name, value in match.groupdict().items() if value is not None}
    weeks = parts.pop("weeks", 0)
    duration = Duration(**{**parts, "days": parts.get("days", 0) + 7 * weeks})
    if duration.is_zero():
        raise InvalidDuration(f"{text!r} is a zero duration; a period must be longer than zero")
    return duration


def add_months(value: _D, months: int) -> _D:
    """Add calendar months, clamping to the last day of a shorter month (31 Jan + 1 month = 28/29 Feb)."""
    if months % 12 == 0 and (value.month != 2 or value.day != 29):  # whole years (P3Y): the same day exists
        return value.replace(year=value.year + months // 12)
    index = value.year * 12 + (value.month - 1) + months
    year, month = divmod(index, 12)
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)


def add_duration(value: _D, duration: Duration) -> _D:
    """Add a calendar duration to a date or an aware datetime."""
    shifted = add_months(value, duration.total_months)
    if isinstance(shifted, datetime):
        return shifted + duration.exact
    return shifted + timedelta(days=duration.exact.days)


def subtract_duration(value: _D, duration: Duration) -> _D:
    """Subtract a calendar duration (used to turn a retention period into a cut-off)."""
    shifted = add_months(value, -duration.total_months)
    if isinstance(shifted, datetime):
        return shifted - duration.exact
    return shifted - timedelta(days=duration.exact.days)
