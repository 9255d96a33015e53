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
