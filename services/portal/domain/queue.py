"""The console's queue of rights requests: filters, orders and the CSV export of what is shown (pure).

Rows are the DSAR service's requests with ``days_left`` added (``urgency.days_left``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from services.portal.domain.urgency import due_by_end_of

OPEN_STATES = ("received", "awaiting_verification", "verified", "in_progress")

# due filter → the open requests it keeps: overdue, or at most N days left
DUE_WINDOWS: dict[str, str] = {"overdue": "Overdue", "7": "Due within 7 days", "30": "Due within 30 days"}
SORTS: dict[str, str] = {"due": "Most urgent first", "received": "Newest first", "type": "Type", "state": "State"}
CSV_COLUMNS = ("id", "type", "jurisdiction", "state", "received_at", "due_at", "days_left", "basis", "extended")


OPEN = "open"  # the queue's default state filter: every state still to answer


def list_params(filters: Mapping[str, str], now: datetime, *, limit: int, offset: int = 0) -> dict[str, Any] | None:
    """The DSAR service's ``GET /v1/requests`` parameters for the queue's filters, order and page.

    Every filter and the order are the service's, so a page of a long history is complete (none of
    the requests it filters out were cut at a limit first). The due windows keep open requests
    only: ``None`` when the chosen state is not one of them (nothing to ask).
    """
    state = filters["state"]
    states = list(OPEN_STATES) if state == OPEN else ([state] if state else [])
    params: dict[str, Any] = {"limit": limit, "offset": offset, "order": filters["sort"]}
    if due := filters["due"]:
        states = [s for s in states or OPEN_STATES if s in OPEN_STATES]
        if not states:
            return None
        # days left < 0 (overdue): due before today; at most N days left: due before the day after the Nth
        params["due_before"] = due_by_end_of(now, -1 if due == "overdue" else int(due)).isoformat()
    if states:
        params["state"] = states
    for name in ("type", "jurisdiction"):
        if filters[name]:
            params[name] = filters[name]
    return params


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
