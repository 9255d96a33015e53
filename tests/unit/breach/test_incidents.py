"""Incident register rules with worked times: awareness, detection, determination, closing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.breach.domain.errors import IncidentClosed, InvalidIncident, NaiveDatetime
from services.breach.domain.incidents import check_times, reference_for, require_open

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DETECTED = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)


def test_awareness_between_detection_and_now_is_accepted() -> None:
    check_times(DETECTED, DETECTED, NOW)
    check_times(DETECTED, NOW, NOW, determined_at=NOW)


@pytest.mark.parametrize(
    ("detected", "aware", "determined", "needle"),
    [
        (DETECTED, datetime(2026, 3, 2, 9, 1, tzinfo=UTC), None, "aware_at .* is in the future"),
        (datetime(2026, 3, 2, 9, 5, tzinfo=UTC), NOW, None, "detected_at .* is in the future"),
        (DETECTED, datetime(2026, 3, 2, 7, 29, tzinfo=UTC), None, "before detected_at"),
        (DETECTED, NOW, datetime(2026, 3, 2, 8, 0, tzinfo=UTC), "determined_at"),
    ],
)
def test_inconsistent_times_are_refused(
    detected: datetime, aware: datetime, determined: datetime | None, needle: str
) -> None:
    with pytest.raises(InvalidIncident, match=needle):
        check_times(detected, aware, NOW, determined)


def test_naive_times_are_refused() -> None:
    with pytest.raises(NaiveDatetime):
        check_times(DETECTED, datetime(2026, 3, 2, 8, 0), NOW)


def test_a_closed_incident_refuses_changes() -> None:
    require_open("notifying")
    with pytest.raises(IncidentClosed) as raised:
        require_open("closed")
    assert raised.value.status == 409


def test_references_count_per_year() -> None:
    assert reference_for(NOW, 7) == "BR-2026-0007"
