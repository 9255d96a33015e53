"""Legal holds: what they cover, when they apply, and what a sweep must skip."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.retention.domain import (
    DataCategory,
    HeldItem,
    HoldAlreadyReleased,
    InvalidHold,
    LegalHold,
    NaiveDatetime,
    UnknownCategory,
    holds_on,
    is_held,
    release_hold,
    sweep_exclusions,
)


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


PLACED = utc(2026, 3, 1, 9)
NOW = utc(2026, 11, 21)

SUBJECT_HOLD = LegalHold(
    id="hold-1",
    placed_by="dpo@example.com",
    reason="litigation Dupont v. Example",
    placed_at=PLACED,
    subject_ref="subj-42",
)
MATTER_HOLD = LegalHold(
    id="hold-2",
    placed_by="legal@example.com",
    reason="tax audit 2025",
    placed_at=PLACED,
    matter="audit-2025",
    category=DataCategory.INVOICE,
)
SYSTEM_HOLD = LegalHold(
    id="hold-3",
    placed_by="legal@example.com",
    reason="police request on the CRM",
    placed_at=PLACED,
    system="crm",
)

ITEM = HeldItem(category=DataCategory.PROSPECT, system="crm", subject_ref="subj-42")
OTHER = HeldItem(category=DataCategory.PROSPECT, system="newsletter", subject_ref="subj-7")


def test_a_hold_on_a_subject_stops_their_data_in_every_system() -> None:
    assert is_held(ITEM, [SUBJECT_HOLD], NOW)
    assert is_held(HeldItem(DataCategory.ACCOUNT, "shop", "subj-42"), [SUBJECT_HOLD], NOW)
    assert not is_held(OTHER, [SUBJECT_HOLD], NOW)


def test_a_hold_applies_only_from_its_placement() -> None:
    assert not is_held(ITEM, [SUBJECT_HOLD], utc(2026, 3, 1, 8))
    assert is_held(ITEM, [SUBJECT_HOLD], PLACED)


def test_a_released_hold_lets_the_item_go() -> None:
    released = release_hold(SUBJECT_HOLD, by="dpo@example.com", at=utc(2026, 10, 1), reason="case settled")
    assert released.released_by == "dpo@example.com"
    assert not is_held(ITEM, [released], NOW)
    # It still applied while it stood.
    assert is_held(ITEM, [released], utc(2026, 9, 30))


def test_a_hold_cannot_be_released_twice() -> None:
    released = release_hold(SUBJECT_HOLD, by="dpo@example.com", at=utc(2026, 10, 1))
    with pytest.raises(HoldAlreadyReleased, match="already released at 2026-10-01"):
        release_hold(released, by="someone", at=utc(2026, 10, 2))


def test_a_release_before_placement_is_refused() -> None:
    with pytest.raises(InvalidHold, match="before it was placed"):
        release_hold(SUBJECT_HOLD, by="dpo@example.com", at=utc(2026, 2, 1))


def test_a_release_needs_who() -> None:
    with pytest.raises(InvalidHold, match="who released"):
        release_hold(SUBJECT_HOLD, by=" ", at=utc(2026, 10, 1))


def test_a_matter_hold_covers_items_tagged_with_the_matter_in_its_category() -> None:
    tagged = HeldItem(DataCategory.INVOICE, "billing", "subj-9", matters=frozenset({"audit-2025"}))
    untagged = HeldItem(DataCategory.INVOICE, "billing", "subj-9")
    other_category = HeldItem(DataCategory.ACCOUNT, "billing", "subj-9", matters=frozenset({"audit-2025"}))
    assert is_held(tagged, [MATTER_HOLD], NOW)
    assert not is_held(untagged, [MATTER_HOLD], NOW)
    assert not is_held(other_category, [MATTER_HOLD], NOW)


def test_holds_on_names_every_hold_for_the_evidence() -> None:
    assert [hold.id for hold in holds_on(ITEM, [SUBJECT_HOLD, MATTER_HOLD, SYSTEM_HOLD], NOW)] == ["hold-1", "hold-3"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"reason": ""}, "a reason is required"),
        ({"reason": "   "}, "a reason is required"),
        ({"placed_by": ""}, "who placed the hold is required"),
        ({"subject_ref": None}, "name what it covers"),
        ({"subject_ref": " "}, "subject_ref must be omitted or non-blank"),
        ({"id": ""}, "needs an id"),
    ],
)
def test_invalid_holds_are_refused(changes: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "id": "hold-9",
        "placed_by": "dpo",
        "reason": "litigation",
        "placed_at": PLACED,
        "subject_ref": "subj-1",
    }
    fields.update(changes)
    with pytest.raises(InvalidHold, match=message):
        LegalHold(**fields)  # type: ignore[arg-type]


def test_hold_times_must_be_aware() -> None:
    with pytest.raises(NaiveDatetime):
        LegalHold(id="h", placed_by="dpo", reason="r", placed_at=datetime(2026, 1, 1), subject_ref="s")


def test_sweep_skips_held_subjects_and_matters() -> None:
    exclusions = sweep_exclusions("billing", "invoice", [SUBJECT_HOLD, MATTER_HOLD, SYSTEM_HOLD], NOW)
    assert not exclusions.whole_sweep_held
    assert exclusions.subject_refs == {"subj-42"}
    assert exclusions.matters == {"audit-2025"}
    assert exclusions.hold_ids == ("hold-1", "hold-2")
    assert exclusions.skips("subj-42")
    assert exclusions.skips("subj-1", ["audit-2025"])
    assert not exclusions.skips("subj-1", ["audit-2024"])
    assert not exclusions.skips(None)


def test_a_hold_on_the_system_holds_the_whole_sweep() -> None:
    exclusions = sweep_exclusions("crm", DataCategory.PROSPECT, [SYSTEM_HOLD], NOW)
    assert exclusions.whole_sweep_held
    assert exclusions.skips("anyone")


def test_a_hold_on_the_category_holds_the_sweep_in_every_system() -> None:
    hold = LegalHold(
        id="h-cat", placed_by="dpo", reason="regulator inquiry", placed_at=PLACED, category=DataCategory.CONNECTION_LOG
    )
    assert sweep_exclusions("edge", "connection_log", [hold], NOW).whole_sweep_held
    assert not sweep_exclusions("edge", "cookie", [hold], NOW).whole_sweep_held


def test_released_and_future_holds_do_not_stop_a_sweep() -> None:
    released = release_hold(SYSTEM_HOLD, by="legal", at=utc(2026, 6, 1))
    future = LegalHold(id="h-later", placed_by="dpo", reason="r", placed_at=utc(2027, 1, 1), system="crm")
    exclusions = sweep_exclusions("crm", "prospect", [released, future], NOW)
    assert not exclusions.whole_sweep_held
    assert exclusions.hold_ids == ()


def test_a_subject_hold_within_a_matter_is_widened_to_the_subject_for_sweeps() -> None:
    hold = LegalHold(id="h-pair", placed_by="dpo", reason="r", placed_at=PLACED, subject_ref="subj-5", matter="m-1")
    assert not is_held(HeldItem(DataCategory.PROSPECT, "crm", "subj-5"), [hold], NOW)
    exclusions = sweep_exclusions("crm", "prospect", [hold], NOW)
    assert exclusions.subject_refs == {"subj-5"}
    assert exclusions.matters == frozenset()


def test_everything_held_is_skipped_by_the_sweep() -> None:
    holds = [SUBJECT_HOLD, MATTER_HOLD, SYSTEM_HOLD]
    items = [
        HeldItem(category, system, subject, frozenset(matters))
        for category in DataCategory
        for system in ("crm", "billing", "shop")
        for subject in ("subj-42", "subj-1", None)
        for matters in ((), ("audit-2025",))
    ]
    for item in items:
        if is_held(item, holds, NOW):
            assert sweep_exclusions(item.system, item.category, holds, NOW).skips(item.subject_ref, item.matters)


def test_sweep_rejects_an_unknown_category() -> None:
    with pytest.raises(UnknownCategory):
        sweep_exclusions("crm", "pets", [], NOW)
