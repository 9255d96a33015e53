"""Subject-level schedules and sweep steps: when one subject's data falls due, and what a sweep asks for.

Pure rules, no I/O. A category sweep of an ``archive_then_delete`` policy is two commands: archive
what is past the first period, delete what is past both. A subject-level schedule runs the first
step of its policy (a store archives, anonymises or deletes that subject's data in the category).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from shared.rules.durations import Duration, add_duration

from .policies import (
    ClockStart,
    RetentionAction,
    RetentionPolicy,
    archive_cutoff,
    cutoff,
    delete_cutoff,
    due_at,
    require_aware,
)

T = TypeVar("T")


class SweepAction(StrEnum):
    """What one sweep command asks a store to do (the event's ``action``)."""

    DELETE = "delete"
    ANONYMISE = "anonymise"
    ARCHIVE = "archive"


class EndingEvent(StrEnum):
    """An event that ends the lawful basis of a subject's data before its policy period runs out."""

    CONSENT_WITHDRAWN = "consent_withdrawn"
    CONSENT_EXPIRED = "consent_expired"


@dataclass(frozen=True, slots=True)
class SweepStep:
    """One command of a category sweep: the action and the cut-off it applies."""

    action: SweepAction
    cutoff: datetime


def sweep_steps(policy: RetentionPolicy, now: datetime) -> tuple[SweepStep, ...]:
    """The commands a sweep of the policy's category sends now, in order (archive before delete)."""
    if policy.action is RetentionAction.ARCHIVE_THEN_DELETE:
        return (
            SweepStep(SweepAction.ARCHIVE, archive_cutoff(policy, now)),
            SweepStep(SweepAction.DELETE, delete_cutoff(policy, now)),
        )
    action = SweepAction.ANONYMISE if policy.action is RetentionAction.ANONYMISE else SweepAction.DELETE
    return (SweepStep(action, cutoff(policy, now)),)


def subject_action(policy: RetentionPolicy) -> SweepAction:
    """What a subject-level schedule of the policy asks for when it falls due (its first step)."""
    return {
        RetentionAction.DELETE: SweepAction.DELETE,
        RetentionAction.ANONYMISE: SweepAction.ANONYMISE,
        RetentionAction.ARCHIVE_THEN_DELETE: SweepAction.ARCHIVE,
    }[policy.action]


def subject_due_at(
    policy: RetentionPolicy,
    event: ClockStart | EndingEvent,
    event_at: datetime,
    *,
    grace: Duration,
) -> datetime:
    """When one subject's data falls due after ``event``.

    The policy's own clock-start event (account closed for account data) runs the policy period;
    an event ending the lawful basis (consent withdrawn or expired) leaves only the grace period.
    """
    require_aware(event_at, "event_at")
    if isinstance(event, ClockStart):
        return due_at(policy, event_at)
    return add_duration(event_at, grace)


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size`` (one sweep command per slice)."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    for start in range(0, len(items), size):
        yield items[start : start + size]
