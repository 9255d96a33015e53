"""Retention events: sweeps commanded to data stores, and their results."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from shared.events import topics
from shared.events.catalogue import Event


class RetentionSweepRequested(Event):
    """Sent when a data store must delete, anonymise or archive one category's data older than a cut-off."""

    event_type: ClassVar[str] = "io.privops.retention.sweep.requested"
    topic: ClassVar[str] = topics.RETENTION_SWEEPS
    producer: ClassVar[str] = "retention"
    keyed_by: ClassVar[str] = "the system key (a store's commands stay in order)"

    sweep_id: uuid.UUID
    system: str
    category: str
    action: Literal["delete", "anonymise", "archive"]
    cutoff: datetime = Field(description="Records whose retention clock started before this instant are due")
    policy_id: uuid.UUID
    policy_version: int = Field(ge=1)
    held_subject_refs: list[str] = Field(default_factory=list, description="Subjects under legal hold: skip them")
    held_matters: list[str] = Field(default_factory=list, description="Matters under legal hold: skip their records")


class RetentionSweepCompleted(Event):
    """Sent by a data store when it has carried out a retention sweep."""

    event_type: ClassVar[str] = "io.privops.retention.sweep.completed"
    topic: ClassVar[str] = topics.RETENTION_SWEEP_RESULTS
    producer: ClassVar[str] = "store"
    keyed_by: ClassVar[str] = "the sweep id"

    sweep_id: uuid.UUID
    system: str
    category: str
    deleted: int = Field(default=0, ge=0)
    anonymised: int = Field(default=0, ge=0)
    archived: int = Field(default=0, ge=0)
    skipped_held: int = Field(default=0, ge=0)
    completed_at: datetime
    detail: str | None = None


class SubjectScheduleCreated(Event):
    """Sent when a subject's data in a category becomes due for deletion at a known date."""

    event_type: ClassVar[str] = "io.privops.retention.schedule.created"
    topic: ClassVar[str] = topics.RETENTION_EVENTS
    producer: ClassVar[str] = "retention"

    schedule_id: uuid.UUID
    subject_ref: str
    category: str
    reason: str
    due_at: datetime


class RetentionSubjectSweepRequested(Event):
    """Sent when a data store must delete, anonymise or archive named subjects' data in one category."""

    event_type: ClassVar[str] = "io.privops.retention.subject-sweep.requested"
    topic: ClassVar[str] = topics.RETENTION_SWEEPS
    producer: ClassVar[str] = "retention"
    keyed_by: ClassVar[str] = "the system key (a store's commands stay in order)"

    sweep_id: uuid.UUID = Field(description="Answer with io.privops.retention.sweep.completed for this id")
    system: str
    category: str
    purpose: str | None = Field(default=None, description="Only the data kept for this purpose, when set")
    action: Literal["delete", "anonymise", "archive"]
    subject_refs: list[str] = Field(min_length=1, max_length=5000, description="Keyed hashes of the subjects")
    policy_id: uuid.UUID | None = None
    policy_version: int | None = Field(default=None, ge=1)
    attempt: int = Field(default=1, ge=1, description="1 for the first publication, more for re-publications")


class RetentionSweepEscalated(Event):
    """Sent when a data store has not answered a sweep after every retry, so a person must follow it up."""

    event_type: ClassVar[str] = "io.privops.retention.sweep.escalated"
    topic: ClassVar[str] = topics.RETENTION_EVENTS
    producer: ClassVar[str] = "retention"
    keyed_by: ClassVar[str] = "the system key"

    sweep_id: uuid.UUID
    system: str
    category: str
    action: str
    attempts: int = Field(ge=1)
    requested_at: datetime
    escalated_at: datetime


class LegalHoldPlaced(Event):
    """Sent when a legal hold is placed: what it covers is kept out of every sweep until it is released."""

    event_type: ClassVar[str] = "io.privops.retention.hold.placed"
    topic: ClassVar[str] = topics.RETENTION_EVENTS
    producer: ClassVar[str] = "retention"
    keyed_by: ClassVar[str] = "the subject reference of a hold on a person, else the hold id"

    hold_id: uuid.UUID
    subject_ref: str | None = None
    category: str | None = None
    system: str | None = None
    matter: str | None = None
    placed_at: datetime
    reason: str | None = Field(
        default=None,
        description="Why the hold was placed (the litigation, audit or request it serves): stores and certificates of "
        "erasure give it as the reason data is kept, so it names the matter, never a person",
    )


class LegalHoldReleased(Event):
    """Sent when a legal hold is released: the next sweep may take what it covered."""

    event_type: ClassVar[str] = "io.privops.retention.hold.released"
    topic: ClassVar[str] = topics.RETENTION_EVENTS
    producer: ClassVar[str] = "retention"
    keyed_by: ClassVar[str] = "the subject reference of a hold on a person, else the hold id"

    hold_id: uuid.UUID
    released_at: datetime


class RetentionPolicyChanged(Event):
    """Sent when a tenant's retention policy is created or gets a new version."""

    event_type: ClassVar[str] = "io.privops.retention.policy.changed"
    topic: ClassVar[str] = topics.RETENTION_EVENTS
    producer: ClassVar[str] = "retention"
    keyed_by: ClassVar[str] = "the policy id"

    policy_id: uuid.UUID
    policy_version: int = Field(ge=1)
    category: str
    system: str | None = None
    purpose: str | None = None
    period: str = Field(description="ISO 8601 duration")
    action: str
