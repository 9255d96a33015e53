"""Sector regimes listed as jurisdictions, and the status a clock reads at a given moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.breach.domain import clocks
from services.breach.domain.clocks import Audience, BreachScope, InvalidClockInput, Jurisdiction, compute_deadlines

J, A = Jurisdiction, Audience
AWARE = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)


def test_a_sector_regime_listed_with_its_flag_runs_its_clocks() -> None:
    found = {
        (d.jurisdiction, d.audience): d
        for d in compute_deadlines(
            AWARE, BreachScope(frozenset({J.EU_NIS2, J.US_HIPAA}), nis2_entity=True, hipaa_in_scope=True)
        )
    }
    assert found[(J.EU_NIS2, A.EARLY_WARNING)].due_at == AWARE + timedelta(hours=24)
    assert found[(J.US_HIPAA, A.INDIVIDUALS)].due_at == datetime(2026, 5, 5, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("regime", "flag"),
    [(J.EU_NIS2, "nis2_entity"), (J.EU_DORA, "dora_entity"), (J.US_HIPAA, "hipaa_in_scope")],
)
def test_a_sector_regime_without_its_flag_names_only_that_flag(regime: Jurisdiction, flag: str) -> None:
    with pytest.raises(InvalidClockInput) as refused:
        compute_deadlines(AWARE, BreachScope(frozenset({regime, J.EU_GDPR})))
    message = str(refused.value)
    assert [name for name in ("nis2_entity", "dora_entity", "hipaa_in_scope") if name in message] == [flag]


def test_an_open_clock_past_its_hard_limit_reads_overdue() -> None:
    due = AWARE + timedelta(hours=72)
    assert clocks.status_at("open", due, due) == "open"  # at the limit: not yet late
    assert clocks.status_at("open", due, due + timedelta(seconds=1)) == "overdue"
    assert clocks.status_at("open", None, due + timedelta(days=300)) == "open"  # no hard limit
    assert clocks.status_at("met", due, due + timedelta(days=1)) == "met"
    assert clocks.status_at("cancelled", due, due + timedelta(days=1)) == "cancelled"
