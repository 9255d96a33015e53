"""The demo analytics store under a partial legal hold: a held category it keeps data of keeps the user's data."""

from __future__ import annotations

from examples.analytics.store import AnalyticsStore
from sdk import Hold, Identifier, Identifiers, Outcome

ADA = (Identifier("user_id", "u-1001"),)


async def erase(*holds: Hold) -> tuple[AnalyticsStore, Outcome]:
    store = AnalyticsStore(":memory:")
    store.seed()
    return store, await store.erase(Identifiers(ADA, holds=holds))


async def test_a_hold_on_one_of_its_categories_keeps_the_profile_and_events() -> None:
    store, outcome = await erase(Hold("h-1", "case 12", subject_held=True, category="cookie"))
    assert (outcome.kind, outcome.records_affected) == ("exempt", 0)
    assert outcome.exemption == "legal hold h-1: case 12 — Art. 17(3)(e) GDPR"
    assert await store.query("SELECT * FROM events WHERE user_id = 'u-1001'")


async def test_holds_on_other_categories_or_on_a_matter_keep_nothing_here() -> None:
    store, outcome = await erase(Hold("h-1", None, category="invoice"), Hold("h-2", None, matter="case-12"))
    assert outcome.kind == "done"
    assert not await store.query("SELECT * FROM events WHERE user_id = 'u-1001'")
