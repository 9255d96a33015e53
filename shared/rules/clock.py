"""An injectable clock, so that every legal deadline can be tested by moving time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        """The current instant from the operating system, in UTC."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to; used by tests and by the local stack's time travel."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = ensure_utc(start) if start else datetime.now(UTC)

    def now(self) -> datetime:
        """The instant this clock was last set to."""
        return self._now

    def set(self, instant: datetime) -> None:
        """Jump to an instant (forwards or backwards)."""
        self._now = ensure_utc(instant)

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forwards by ``delta`` and return the new instant."""
        self._now += delta
        return self._now


def ensure_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; refuse naive datetimes, whose meaning is ambiguous."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: give a timezone (e.g. 2026-01-31T10:00:00Z)")
    return value.astimezone(UTC)
