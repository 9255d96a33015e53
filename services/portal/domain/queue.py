"""The console's queue of rights requests: filters, orders and the CSV export of what is shown (pure).

Rows are the DSAR service's requests with ``days_left`` added (``urgency.days_left``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

OPEN_STATES = ("received", "awaiting_verification", "verified", "in_progress")

# due filter → the rows it keeps (days left, open requests only for the time windows)
DUE_WINDOWS: dict[str, str] = {"overdue": "Overdue", "7": "Due within 7 days", "30": "Due within 30 days"}
SORTS: dict[str, str] = {"due": "Most urgent first", "received": "Newest first", "type": "Type", "state": "State"}
CSV_COLUMNS = ("id", "type", "jurisdiction", "state", "received_at", "due_at", "days_left", "basis", "extended")


def keep(row: Mapping[str, Any], type_: str = "", jurisdiction: str = "", due: str = "") -> bool:
    """Whether ``row`` passes the queue's filters (empty: any)."""
    if type_ and row["type"] != type_:
        return False
    if jurisdiction and row["jurisdiction"] != jurisdiction:
        return False
    if due:
        if row["state"] not in OPEN_STATES:
            return False
        if due == "overdue":
            return bool(row["days_left"] < 0)
        if due.isdigit():
            return bool(row["days_left"] <= int(due))
    return True


def ordered(rows: Iterable[dict[str, Any]], sort: str = "due") -> list[dict[str, Any]]:
    """The rows in the chosen order; ``due`` puts open requests first, the least time left first."""
    items = list(rows)
    if sort == "received":
        return sorted(items, key=lambda r: str(r["received_at"]), reverse=True)
    if sort in ("type", "state"):
        return sorted(items, key=lambda r: (str(r[sort]), r["days_left"]))
    return sorted(items, key=lambda r: (r["state"] not in OPEN_STATES, r["days_left"]))


def as_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """The rows as CSV (RFC 4180), one line per request, never the person's identifiers."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        deadline = r["deadline"]
        writer.writerow(
            [
                r["id"],
                r["type"],
                r["jurisdiction"],
                r["state"],
                r["received_at"],
                deadline["due_at"],
                r["days_left"],
                deadline.get("basis") or "",
                "yes" if deadline.get("extended_by") else "no",
            ]
        )
    return out.getvalue()
