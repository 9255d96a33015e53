"""Pure number work: ratios against a baseline, percentiles, targets, and how they are printed."""

from __future__ import annotations

import math
from collections.abc import Sequence


def ratio(value: float | None, baseline: float | None) -> float | None:
    """``value / baseline``, or None when either is missing, not finite, or the baseline is zero."""
    if value is None or baseline is None:
        return None
    if not (math.isfinite(value) and math.isfinite(baseline)) or baseline == 0:
        return None
    return value / baseline


def format_ratio(value: float | None) -> str:
    """``0.42×`` (two significant decimals below 10, one above), or ``n/a``."""
    if value is None:
        return "n/a"
    if value >= 10:
        return f"{value:.1f}×"
    return f"{value:.2f}×"


def format_number(value: float | None, unit: str = "") -> str:
    """A figure for a table: thousands separated, few decimals, with its unit."""
    if value is None or not math.isfinite(value):
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 1000:
        text = f"{value:,.0f}"
    elif magnitude >= 100:
        text = f"{value:.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".rstrip()


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0–100) by linear interpolation between closest ranks; None when empty."""
    if not values:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be between 0 and 100, not {q}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def meets(value: float | None, op: str, threshold: float) -> bool | None:
    """Whether ``value op threshold`` holds (``>=``, ``<=``, ``>``, ``<``); None when there is no value."""
    if value is None:
        return None
    checks = {
        ">=": value >= threshold,
        "<=": value <= threshold,
        ">": value > threshold,
        "<": value < threshold,
    }
    if op not in checks:
        raise ValueError(f"unknown comparison {op!r}")
    return checks[op]


def mb(n_bytes: float) -> float:
    """Bytes to MB (10^6 bytes, the unit of the memory target of 200 MB)."""
    return n_bytes / 1_000_000
