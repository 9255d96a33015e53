"""DSAR events: rights requests, and the tasks each data store performs for them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events import topics
from shared.events.catalogue import Event

TaskAction = Literal["access", "erase", "rectify", "restrict", "lift_restriction", "object", "portability"]
TaskOutcome = Literal["done", "no_data", "exempt"]
# GDPR Art. 17(3)(e): no erasure of what is needed for the establishment, exercise or defence of legal claims
# (https://eur-lex.europa.eu/eli/reg/2016/679/oj).
LEGAL_CLAIMS = "Art. 17(3)(e) GDPR"


def hold_exemption(hold_id: uuid.UUID | str, reason: str | None) -> str:
    """The legal reason a store gives for what a hold keeps: ``legal hold <id>: <reason> — Art. 17(3)(e) GDPR``."""
    return f"legal hold {hold_id}{f': {reason}' if reason else ''} — {LEGAL_CLAIMS}"


class TaskHold(BaseModel):
    """A legal hold that applies to an erasure task: the store keeps what it covers and says so.

    The store must keep every record the hold covers (each scope it names must match: the person, the
    category, the matter) and answer ``exempt`` (or ``done`` for the rest) with the hold as the reason in
    ``exemption``: erasure does not apply to data needed for legal claims, GDPR Art. 17(3)(e)
    (https://eur-lex.europa.eu/eli/reg/2016/679/oj).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    hold_id: uuid.UUID
    reason: str | None = Field(default=None, description="Why the data is kept (the hold's reason), for the answer")
    subject_ref: str | None = Field(
        default=None, description="The held person's reference (one of the request's), or None for a hold not about one"
    )
    category: str | None = Field(default=None, description="Only this retention category's data is held, when set")
    system: str | None = Field(default=None, description="Only this system's data is held, when set (then the task's)")
    matter: str | None = Field(default=None, description="Only the records tagged with this matter are held, when set")
    placed_at: datetime

    @property
    def whole(self) -> bool:
        """True when the hold keeps everything the task is about (no category, no matter to narrow it)."""
        return self.category is None and self.matter is None

    @property
    def exemption(self) -> str:
        """The answer's legal reason for what this hold keeps."""
        return hold_exemption(self.hold_id, self.reason)


# The detail of an erase task answered exempt because a hold keeps all of the subject's data.
KEPT_WHOLE = "all data kept under legal hold; nothing erased"


def whole_holds(holds: list[TaskHold], system: str) -> list[TaskHold]:
    """The holds that keep all of ``system``'s data for the task: it erases nothing and answers exempt."""
    return [hold for hold in holds if hold.whole and hold.system in (None, system)]


def holds_exemption(holds: list[TaskHold]) -> str:
    """One exemption text naming every hold (for a task's ``exemption``)."""
    return "; ".join(hold.exemption for hold in holds)


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
    holds: list[TaskHold] = Field(
        default_factory=list,
        description="Legal holds standing on what an erase task covers (empty for every other action). A hold with "
        "no category and no matter keeps everything: erase nothing and answer exempt naming the hold. A hold with a "
        "category or a matter keeps only the data of that category or tagged with that matter (every scope it names "
        "must match); erase the rest. What a hold keeps is reported as exempt, or as done with the kept part in "
        "exemption, naming the hold as the reason: GDPR Art. 17(3)(e), legal claims "
        "(https://eur-lex.europa.eu/eli/reg/2016/679/oj).",
    )


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


class DsarPortabilityEvent(Event):
    """Common shape of the events about a package sent to a receiving controller (GDPR Art. 20(2))."""

    topic: ClassVar[str] = topics.DSAR_EVENTS
    producer: ClassVar[str] = "dsar"

    transfer_id: uuid.UUID
    request_id: uuid.UUID
    package_id: uuid.UUID
    controller: str = Field(description="The receiving controller's name, as the request gave it")
    attempts: int = Field(ge=0, description="Sends made")


class DsarPortabilityTransferred(DsarPortabilityEvent):
    """Sent when the receiving controller acknowledged a portability package sent to it (GDPR Art. 20(2)).

    The request completes then; the person is told where their data went.
    """

    event_type: ClassVar[str] = "io.privops.dsar.portability.transferred"

    status_code: int = Field(description="The receiver's HTTP status")
    receipt_id: str | None = Field(default=None, description="The receiver's receipt id, when its answer gave one")
    transferred_at: datetime


class DsarPortabilityTransferFailed(DsarPortabilityEvent):
    """Sent when a portability package could not be delivered to the receiving controller: refused, or no success
    after the last retry. The person is sent a download link instead and the privacy team is alerted.
    """

    event_type: ClassVar[str] = "io.privops.dsar.portability.failed"

    status_code: int | None = Field(default=None, description="The receiver's last HTTP status (none: no answer)")
    reason: str = Field(description="Why: the receiver's refusal, or the last error")
    failed_at: datetime
