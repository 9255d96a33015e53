"""Sweep steps of each default policy and subject-level due dates on worked dates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.retention.domain import (
    DEFAULT_POLICY_PACK,
    ClockStart,
    DataCategory,
    EndingEvent,
    SweepAction,
    build_policy,
    chunked,
    select_policy,
    subject_action,
    subject_due_at,
    sweep_steps,
)
from shared.rules.durations import Duration

NOW = datetime(2026, 11, 21, tzinfo=UTC)


def utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


@pytest.mark.parametrize(
    ("category", "steps"),
    [
        (DataCategory.PROSPECT, [(SweepAction.DELETE, utc(2023, 11, 21))]),
        (DataCategory.CUSTOMER, [(SweepAction.ARCHIVE, utc(2025, 11, 21)), (SweepAction.DELETE, utc(2020, 11, 21))]),
        (DataCategory.CONSENT_BASED, [(SweepAction.DELETE, utc(2023, 11, 21))]),
        (DataCategory.COOKIE, [(SweepAction.DELETE, utc(2025, 10, 21))]),
        (DataCategory.CONNECTION_LOG, [(SweepAction.DELETE, utc(2025, 11, 21))]),
        (DataCategory.INVOICE, [(SweepAction.DELETE, utc(2016, 11, 21))]),
        (DataCategory.ACCOUNT, [(SweepAction.DELETE, utc(2026, 8, 23))]),
    ],
)
def test_each_default_policy_sweeps_with_the_right_cutoffs(
    category: DataCategory, steps: list[tuple[SweepAction, datetime]]
) -> None:
    policy = select_policy(DEFAULT_POLICY_PACK, category)
    assert [(s.action, s.cutoff) for s in sweep_steps(policy, NOW)] == steps


def test_an_anonymising_policy_asks_to_anonymise() -> None:
    policy = build_policy("connection_log", "P6M", "collection", "anonymise", "internal")
    assert [s.action for s in sweep_steps(policy, NOW)] == [SweepAction.ANONYMISE]
    assert subject_action(policy) is SweepAction.ANONYMISE


def test_account_closure_is_due_after_the_account_policy() -> None:
    policy = select_policy(DEFAULT_POLICY_PACK, DataCategory.ACCOUNT)
    due = subject_due_at(policy, ClockStart.ACCOUNT_CLOSED, utc(2026, 8, 23), grace=Duration(days=30))
    assert due == NOW


def test_a_withdrawn_consent_is_due_after_the_grace_period() -> None:
    policy = select_policy(DEFAULT_POLICY_PACK, DataCategory.CONSENT_BASED)
    assert subject_due_at(policy, EndingEvent.CONSENT_WITHDRAWN, utc(2026, 1, 31), grace=Duration(months=1)) == utc(
        2026, 2, 28
    )
    assert subject_action(policy) is SweepAction.DELETE


def test_customer_subjects_are_archived_first() -> None:
    assert subject_action(select_policy(DEFAULT_POLICY_PACK, DataCategory.CUSTOMER)) is SweepAction.ARCHIVE


def test_chunks_cover_everything_in_order() -> None:
    assert [list(c) for c in chunked(list(range(7)), 3)] == [[0, 1, 2], [3, 4, 5], [6]]
    with pytest.raises(ValueError):
        list(chunked([1], 0))
