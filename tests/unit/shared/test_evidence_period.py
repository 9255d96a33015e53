"""The period of an evidence request: whole UTC days, both ends included, checked before anything is read."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from shared.rules.errors import Unprocessable
from shared.runtime.evidence import period_bounds, section_name


def test_a_period_covers_whole_days_until_the_next_midnight() -> None:
    assert period_bounds(date(2026, 1, 1), date(2026, 12, 31)) == (
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert period_bounds(date(2026, 3, 2), date(2026, 3, 2))[1] == datetime(2026, 3, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    ("since", "until", "field"),
    [
        (date(2026, 12, 31), date(2026, 1, 1), "until"),
        (date(2000, 1, 1), date(2026, 1, 1), "since"),
        (date(9999, 12, 30), date.max, "until"),
    ],
)
def test_a_backwards_overlong_or_endless_period_is_refused(since: date, until: date, field: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        period_bounds(since, until)
    assert refused.value.extra["errors"] == [{"field": field}]


def test_a_section_is_published_under_its_function_name() -> None:
    async def data_map_evidence() -> None: ...

    assert section_name(data_map_evidence) == "data_map"  # type: ignore[arg-type]
