"""How a breach's legal clock reads on the console: time left in days or hours, and its colour (pure).

Breach clocks are short (72 hours under GDPR Art. 33(1), https://eur-lex.europa.eu/eli/reg/2016/679/oj;
24 hours for a NIS2 early warning), so they count in hours under two days, in days beyond.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

RED_WITHIN_HOURS = 24
AMBER_WITHIN_HOURS = 72
REGISTER_COLUMNS = (
    "reference",
    "title",
    "status",
    "risk",
    "detected_at",
    "aware_at",
    "nature",
    "data_categories",
    "data_subject_categories",
    "approximate_subjects",
    "approximate_records",
    "jurisdictions",
    "likely_consequences",
    "measures_taken",
    "notify_authority",
    "notify_individuals",
    "closed_at",
)


def hours_left(due_at: datetime, now: datetime) -> float:
    """Hours from ``now`` to ``due_at`` (negative once overdue)."""
    return (due_at - now).total_seconds() / 3600


def describe_hours(hours: float) -> str:
    """``5 hours left``, ``2 days 3 hours left``, ``4 hours overdue``: words next to the colour."""
    whole = int(abs(hours))
    days, rest = divmod(whole, 24)
    if days >= 2:
        text = f"{days} days" + (f" {rest} hour{'s' if rest != 1 else ''}" if rest else "")
    else:
        text = f"{whole} hour{'s' if whole != 1 else ''}"
    if hours < 0:
        return f"{text} overdue"
    return "less than an hour left" if whole == 0 else f"{text} left"


_PERIOD = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?)?$"
)
_UNITS = (("years", "year"), ("months", "month"), ("weeks", "week"), ("days", "day"), ("hours", "hour"),
          ("minutes", "minute"))  # fmt: skip


def describe_period(period: object) -> str:
    """An ISO 8601 duration in words (``P1Y`` one year, ``P90D`` 90 days, ``P2Y6M`` 2 years 6 months); else as given."""
    text = str(period or "")
    found = _PERIOD.match(text)
    if found is None or text in ("P", "PT"):
        return text or "—"
    parts = [
        f"{int(n)} {unit}{'s' if int(n) != 1 else ''}" for name, unit in _UNITS if (n := found.group(name)) is not None
    ]
    return " ".join(parts) or text


def colour(hours: float) -> str:
    """Red within a day or overdue, amber within three days, else green."""
    if hours <= RED_WITHIN_HOURS:
        return "red"
    if hours <= AMBER_WITHIN_HOURS:
        return "amber"
    return "green"


def running(deadline: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A deadline with ``hours_left``, ``left`` (words) and ``colour`` while it runs (open or overdue)."""
    due = deadline.get("due_at")
    if deadline.get("status") not in ("open", "overdue") or not due:
        return dict(deadline) | {"hours_left": None, "left": deadline.get("status", ""), "colour": None}
    hours = hours_left(datetime.fromisoformat(str(due)), now)
    return dict(deadline) | {"hours_left": hours, "left": describe_hours(hours), "colour": colour(hours)}


def soonest_first(clock: Mapping[str, Any]) -> tuple[bool, float]:
    """A sort key of ``running`` clocks: the fewest hours left first; one without a due time ("without undue
    delay") after every clock that has one."""
    hours = clock.get("hours_left")
    return (hours is None, hours if hours is not None else 0.0)


def register_csv(incidents: Iterable[Mapping[str, Any]]) -> str:
    """The breach register as CSV: the facts Art. 33(5) asks a controller to document, one incident a line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REGISTER_COLUMNS)
    for incident in incidents:
        writer.writerow(
            [
                "; ".join(map(str, v)) if isinstance(v, list) else ("" if v is None else v)
                for v in (incident.get(c) for c in REGISTER_COLUMNS)
            ]
        )
    return out.getvalue()
