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
    subject_refs: list[str] = Field(
        default_factory=list,
        description="Keyed hashes of every identifier of the request (subject_ref among them): a store that keys "
        "data by another identifier (a user id, a cookie id) finds it by these",
    )
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
    outcome: Literal["complete", "partial"] = Field(
        default="complete", description="partial when a system failed or was exempt from part of the request"
    )
    certificate_id: uuid.UUID | None = Field(default=None, description="Signed certificate of an erasure")
    package_id: uuid.UUID | None = Field(default=None, description="Export package of an access or portability")


class DsarRequestEvent(Event):
    """Common shape of the events about one rights request."""

    topic: ClassVar[str] = topics.DSAR_EVENTS
    producer: ClassVar[str] = "dsar"

    request_id: uuid.UUID
    request_type: str
    subject_ref: str = Field(description="Keyed hash of the subject's primary identifier")
    regime: str = Field(description="Jurisdiction regime id, e.g. eu-gdpr")
    due_at: datetime = Field(description="When the answer is legally due (after any extension or pause)")


class DsarRequestReceived(DsarRequestEvent):
    """Sent when a rights request is received and its legal clock starts."""

    event_type: ClassVar[str] = "io.privops.dsar.request.received"

    received_at: datetime
    acknowledge_by: datetime | None = None
    channel: str | None = None
    repetition_flagged: bool = Field(default=False, description="The request repeats recent ones (Art. 12(5))")


class DsarRequestVerified(DsarRequestEvent):
    """Sent when the subject's identity is established and the request's tasks fan out."""

    event_type: ClassVar[str] = "io.privops.dsar.request.verified"

    method: Literal["email_code", "manual"]
    verified_at: datetime
    tasks: int = Field(
        ge=0, description="How many (system × action) tasks were created (a manual system's are not published)"
    )


class DsarRequestRefused(DsarRequestEvent):
    """Sent when a request is refused (manifestly unfounded or excessive, identity not established, exemption)."""

    event_type: ClassVar[str] = "io.privops.dsar.request.refused"

    grounds: str
    refused_at: datetime
    authority: str = Field(description="Supervisory authority the subject may complain to")


class DsarRequestCancelled(DsarRequestEvent):
    """Sent when a request is withdrawn before completion; its open tasks are cancelled."""

    event_type: ClassVar[str] = "io.privops.dsar.request.cancelled"

    cancelled_at: datetime


class DsarDeadlineExtended(DsarRequestEvent):
    """Sent when the response period is extended once, with reasons sent to the subject before the first deadline."""

    event_type: ClassVar[str] = "io.privops.dsar.deadline.extended"

    previous_due_at: datetime
    extended_by: str = Field(description="The extension, e.g. '2 months'")


class DsarDeadlineApproaching(DsarRequestEvent):
    """Sent once when an open request's due date is near (seven days by default)."""

    event_type: ClassVar[str] = "io.privops.dsar.deadline.approaching"


class DsarDeadlineOverdue(DsarRequestEvent):
    """Sent once when an open request passes its due date without an answer."""

    event_type: ClassVar[str] = "io.privops.dsar.deadline.overdue"


class DsarTaskEscalated(Event):
    """Sent when a store has not answered a task after its re-publications or by its due time.

    Also sent once for a manual system's task nobody closed by hand by its due time (``manual``).
    """

    event_type: ClassVar[str] = "io.privops.dsar.task.escalated"
    topic: ClassVar[str] = topics.DSAR_EVENTS
    producer: ClassVar[str] = "dsar"

    task_id: uuid.UUID
    request_id: uuid.UUID
    system: str
    action: TaskAction
    attempts: int = Field(ge=1)
    due_at: datetime
    reason: str
    manual: bool = Field(
        default=False, description="The task is a manual system's: nobody closed it by hand by its due time"
    )


class DsarManualTaskOpened(Event):
    """Sent when a verified request gives a task to a manual system (no API): a person must carry it out and close it.

    The task is not published on the tasks topic (no store consumes it); the privacy team is alerted instead.
    """

    event_type: ClassVar[str] = "io.privops.dsar.task.manual"
    topic: ClassVar[str] = topics.DSAR_EVENTS
    producer: ClassVar[str] = "dsar"

    task_id: uuid.UUID
    request_id: uuid.UUID
    system: str = Field(description="Key of the manual data system in the registry")
    action: TaskAction
    due_at: datetime = Field(description="When the task must be closed")
    request_due_at: datetime = Field(description="When the answer to the request is legally due")
