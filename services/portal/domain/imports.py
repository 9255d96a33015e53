"""A consent import's rejected rows as a file the team fixes its export from (pure)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

REJECTION_COLUMNS = ("line", "field", "error")


def rejections_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """The rejected rows as CSV (RFC 4180): the file's line number, the field at fault and why; never a value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REJECTION_COLUMNS)
    for row in rows:
        writer.writerow([row["line"], row.get("field") or "", row["error"]])
    return out.getvalue()
