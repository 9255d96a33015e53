"""A check as of a past instant is judged with the purpose's rules and the subject's flags of that instant."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from shared.rules.clock import ManualClock
from tests.integration.consent.conftest import ADA, ADMIN, check, decide
from tests.integration.consent.test_dsar_store import results, send_task
from tests.support.stack import Infra, RunningService

pytestmark = pytest.mark.integration


async def check_at(svc: RunningService, at: datetime, *purposes: str) -> dict[str, dict[str, Any]]:
    return await check(svc, *purposes, at=at.isoformat())


async def test_past_checks_use_the_rules_and_flags_of_their_instant(consent: RunningService, infra: Infra) -> None:
    await consent.wait_consumers_ready()
    clock = consent.clock
    assert isinstance(clock, ManualClock)
    start = clock.now()
    ref = (await decide(consent, "newsletter", "granted"))["subject_ref"]  # newsletter: valid 3 years

    clock.advance(timedelta(days=10))
    changed = await consent.client.patch("/v1/purposes/newsletter", json={"validity": "P1D"}, headers=ADMIN)
    assert changed.status_code == 200, changed.text
    clock.advance(timedelta(days=10))
    await send_task(infra, consent, ref, "restrict")
    await results(infra, consent, 1)
    clock.advance(timedelta(days=10))

    # Day 5: the grant stood under the 3-year validity then, and nobody had restricted anything.
    before = (await check_at(consent, start + timedelta(days=5), "newsletter"))["newsletter"]
    assert (before["allowed"], before["reason"]) == (True, "granted")
    # Day 15: a one-day validity was in force, so the grant of day 0 had lapsed.
    lapsed = (await check_at(consent, start + timedelta(days=15), "newsletter"))["newsletter"]
    assert lapsed["allowed"] is False and lapsed["reason"] == "expired"
    # Day 25: the restriction of day 20 stood (restriction answers first).
    restricted = (await check_at(consent, start + timedelta(days=25), "fraud"))["fraud"]
    assert (restricted["allowed"], restricted["reason"]) == (False, "restricted")
    assert (await check_at(consent, start + timedelta(days=15), "fraud"))["fraud"]["reason"] != "restricted"
    # And now: the same as the hot path.
    assert (await check(consent, "fraud"))["fraud"]["reason"] == "restricted"
    assert ADA["kind"] == "email"
