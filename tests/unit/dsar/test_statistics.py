"""How well requests were answered, as an evidence pack reports it: on time, and the median days to close."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.dsar.domain.statistics import Answered, timeliness

ARRIVED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DUE = datetime(2026, 4, 2, 23, 59, tzinfo=UTC)


def closed_after(days: float, due: datetime = DUE) -> Answered:
    return Answered(ARRIVED, due, ARRIVED + timedelta(days=days))


def test_on_time_means_closed_by_the_due_instant() -> None:
    answered = [closed_after(3), closed_after(10), closed_after(31.6), closed_after(40)]
    assert timeliness(answered) == {"closed": 4, "on_time": 3, "on_time_rate": 0.75, "median_days": 20.8}


def test_an_extended_due_date_counts() -> None:
    extended = DUE + timedelta(days=61)  # Art. 12(3): two more months
    assert timeliness([closed_after(80, due=extended)])["on_time"] == 1


def test_nothing_closed_gives_no_rate_and_no_median() -> None:
    assert timeliness([]) == {"closed": 0, "on_time": 0, "on_time_rate": None, "median_days": None}
