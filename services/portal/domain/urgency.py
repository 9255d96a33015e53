"""How urgent a legal due date is: whole days left, and the colour the console shows them in."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from enum import StrEnum

# Two working days is what a team needs to finish a request whose tasks are done; a week is
# what the console's home looks ahead.
RED_WITHIN_DAYS = 2
AMBER_WITHIN_DAYS = 7


class Urgency(StrEnum):
    """Green: time enough; amber: due within a week; red: due within two days or overdue."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"


def days_left(due_at: datetime, now: datetime) -> int:
    """Whole calendar days from ``now`` to ``due_at`` (negative once overdue; 0 on the due day)."""
    return (due_at.date() - now.astimezone(due_at.tzinfo).date()).days


def due_by_end_of(now: datetime, days: int) -> datetime:
    """The first instant (UTC) past the ``days``-th day from ``now``: what is due before it has at most that many
    days left (``days_left``); ``days=-1``: the start of today, before which a request is overdue."""
    today = now.astimezone(UTC).date()
    return datetime.combine(today + timedelta(days=days + 1), time.min, tzinfo=UTC)


def urgency(days: int) -> Urgency:
    """The colour of ``days`` left."""
    if days <= RED_WITHIN_DAYS:
        return Urgency.RED
    if days <= AMBER_WITHIN_DAYS:
        return Urgency.AMBER
    return Urgency.GREEN


def describe(days: int) -> str:
    """``3 days left``, ``due today``, ``2 days overdue``: the words next to the colour (never colour alone)."""
    if days == 0:
        return "due today"
    if days > 0:
        return f"{days} day{'s' if days != 1 else ''} left"
    return f"{-days} day{'s' if days != -1 else ''} overdue"
