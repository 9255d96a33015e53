"""DSAR events: rights requests, and the tasks each data store performs for them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from shared.events import topics
from shared.events.catalogue import Event

TaskAction = Literal["access", "erase", "rectify", "restrict", "lift_restriction", "object", "portability"]
TaskOutcome = Literal["done", "no_data", "exempt"]


class DsarTaskRequested(Event):
    """Sent when a data store must act on one subject's data for a verified rights request."""

    event_type: ClassVar[str] = "io.privops.dsar.task.requested"
    topic: ClassVar[str] = topics.DSAR_TASKS
    producer: ClassVar[str] = "dsar"

    task_id: uuid.UUID
    request_id: uuid.UUID
    action: TaskAction
    system: str = Field(description="Key of the data system in the registry that must act")
    subject_ref: str = Field(description="Keyed hash of the subject; the identifiers are behind claim_url")
    claim_url: str = Field(description="Authenticated URL where the store fetches the identifiers (claim check)")
    due_at: datetime = Field(description="When the store must have answered")
    attempt: int = Field(default=1, ge=1, description="1 for the first publication, more for re-publications")


class DsarTaskCompleted(Event):
    """Sent by a data store when it has carried out a DSAR task (or found nothing, or is exempt)."""

    event_type: ClassVar[str] = "io.privops.dsar.task.completed"
    topic: ClassVar[str] = topics.DSAR_TASK_RESULTS
    producer: ClassVar[str] = "store"

    task_id: uuid.UUID
    request_id: uuid.UUID
    system: str
    outcome: TaskOutcome
    records_affected: int = Field(default=0, ge=0)
    exemption: str | None = Field(default=None, description="Legal reason when outcome is exempt (e.g. Art. 17(3)(b))")
    detail: str | None = None
    completed_at: datetime


class DsarTaskFailed(Event):
    """Sent by a data store when it could not carry out a DSAR task."""

    event_type: ClassVar[str] = "io.privops.dsar.task.failed"
    topic: ClassVar[str] = topics.DSAR_TASK_RESULTS
    producer: ClassVar[str] = "store"

    task_id: uuid.UUID
    request_id: uuid.UUID
    system: str
    error: str
    retryable: bool = True
    failed_at: datetime


class DsarRequestCompleted(Event):
    """Sent when every task of a rights request is closed and the request is complete."""

    event_type: ClassVar[str] = "io.privops.dsar.request.completed"
    topic: ClassVar[str] = topics.DSAR_EVENTS
    producer: ClassVar[str] = "dsar"

    request_id: uuid.UUID
    request_type: str
    subject_ref: str
    completed_at: datetime
