"""Which legal holds an erase task carries: the person's, the system's, only while they stand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.dsar.domain.holds import KnownHold, holds_for_task

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PLACED = NOW - timedelta(days=3)


def hold(hold_id: str, **scope: object) -> KnownHold:
    return KnownHold(id=hold_id, placed_at=scope.pop("placed_at", PLACED), reason="case 12", **scope)  # type: ignore[arg-type]


def ids(holds: list[KnownHold]) -> list[str]:
    return [h.id for h in holds]


def test_a_hold_on_one_of_the_requests_references_applies_and_on_someone_else_does_not() -> None:
    holds = [hold("ada", subject_ref="ref-ada-user-id"), hold("grace", subject_ref="ref-grace")]
    assert ids(holds_for_task(holds, ["ref-ada-email", "ref-ada-user-id"], "crm", NOW)) == ["ada"]
    assert ids(holds_for_task(holds, ["ref-alan"], "crm", NOW)) == []


def test_a_hold_about_no_one_person_applies_to_everyone() -> None:
    holds = [hold("matter", matter="case-12"), hold("invoices", category="invoice")]
    assert ids(holds_for_task(holds, ["ref-alan"], "crm", NOW)) == ["invoices", "matter"]


def test_a_hold_scoped_to_a_system_applies_to_that_systems_task_only() -> None:
    holds = [hold("crm-only", subject_ref="ref-ada", system="crm"), hold("all-crm", system="crm")]
    assert ids(holds_for_task(holds, ["ref-ada"], "crm", NOW)) == ["all-crm", "crm-only"]
    assert ids(holds_for_task(holds, ["ref-ada"], "analytics", NOW)) == []


def test_a_released_hold_or_one_not_yet_placed_does_not_apply() -> None:
    released = hold("released", subject_ref="ref-ada", released_at=NOW - timedelta(hours=1))
    later = hold("later", subject_ref="ref-ada", placed_at=NOW + timedelta(hours=1))
    release_heard_first = KnownHold(id="unknown", placed_at=None, released_at=NOW - timedelta(days=1))
    assert holds_for_task([released, later, release_heard_first], ["ref-ada"], "crm", NOW) == []
    assert ids(holds_for_task([released], ["ref-ada"], "crm", NOW - timedelta(hours=2))) == ["released"]


def test_holds_come_oldest_first() -> None:
    newer = hold("b-newer", subject_ref="ref-ada", placed_at=PLACED + timedelta(days=1))
    older = hold("a-older", subject_ref="ref-ada")
    assert ids(holds_for_task([newer, older], ["ref-ada"], "crm", NOW)) == ["a-older", "b-newer"]
