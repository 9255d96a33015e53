"""How well requests were answered: the on-time rate and the median time to answer (pure)."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Answered:
    """One closed request: when it arrived, when it was due (extensions included) and when it was closed."""

    received_at: datetime
    due_at: datetime
    closed_at: datetime


def timeliness(answered: Iterable[Answered]) -> dict[str, float | int | None]:
    """``closed``, ``on_time`` (closed by the due date), ``on_time_rate`` (0–1) and ``median_days`` (to close).

    On time means closed at or before ``due_at``; with none closed, rate and median are None.
    """
    closed = list(answered)
    on_time = sum(1 for a in closed if a.closed_at <= a.due_at)
    days = [(a.closed_at - a.received_at).total_seconds() / SECONDS_PER_DAY for a in closed]
    return {
        "closed": len(closed),
        "on_time": on_time,
        "on_time_rate": round(on_time / len(closed), 4) if closed else None,
        "median_days": round(statistics.median(days), 2) if days else None,
    }
