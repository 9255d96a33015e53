"""Breach events: incidents, their assessment, their legal clocks and the notices sent."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from shared.events import topics
from shared.events.catalogue import Event


class BreachEvent(Event):
    """Common shape of the breach service's facts."""

    topic: ClassVar[str] = topics.BREACH_EVENTS
    producer: ClassVar[str] = "breach"
    keyed_by: ClassVar[str] = "the incident id"

    incident_id: uuid.UUID = Field(description="The incident in the tenant's breach register")


class BreachReported(BreachEvent):
    """Sent when a personal-data breach is entered in the register (its clocks start at aware_at)."""

    event_type: ClassVar[str] = "io.privops.breach.reported"

    reference: str
    aware_at: datetime = Field(description="When the tenant became aware: every legal clock counts from here")
    nature: list[Literal["confidentiality", "integrity", "availability"]]
    jurisdictions: list[str]
    role: Literal["controller", "processor"]
    subprocessor_id: str | None = None


class BreachAssessed(BreachEvent):
    """Sent when a breach's risk is assessed (ENISA score) or the decision is overridden by a person."""

    event_type: ClassVar[str] = "io.privops.breach.assessed"

    risk: Literal["unlikely_risk", "risk", "high_risk"]
    severity_level: str | None = Field(default=None, description="ENISA band (absent for an override without score)")
    score: float | None = None
    notify_authority: bool
    notify_individuals: bool
    basis: Literal["enisa", "override"]


class BreachDeadlineAlert(BreachEvent):
    """Common shape of the deadline alerts."""

    deadline_id: uuid.UUID
    jurisdiction: str
    audience: str = Field(description="authority, controller, individuals, early_warning, final_report …")
    recipient: str = Field(description="The recipient named by the rule (e.g. 'supervisory authority')")
    due_at: datetime | None = Field(description="The hard legal limit; null for 'without undue delay'")
    target_at: datetime = Field(description="The limit, or the working target when the law sets none")
    citation: str


class BreachNotificationDue(BreachDeadlineAlert):
    """Sent when a breach notice's deadline comes within an escalation point (e.g. 24 h, then 4 h, before it)."""

    event_type: ClassVar[str] = "io.privops.breach.notification.due"

    hours_left: float = Field(description="The escalation point, in hours before the target")


class BreachNotificationOverdue(BreachDeadlineAlert):
    """Sent once when a breach notice's hard deadline has passed and the notice was not sent."""

    event_type: ClassVar[str] = "io.privops.breach.notification.overdue"


class BreachNoticeSent(BreachEvent):
    """Sent when a breach notice is frozen and handed over for delivery."""

    event_type: ClassVar[str] = "io.privops.breach.notice.sent"

    notice_id: uuid.UUID
    kind: Literal["authority", "controller", "individuals"]
    stage: Literal["initial", "follow_up", "final"]
    jurisdiction: str | None = None
    recipients: int = Field(ge=0, description="How many deliveries were requested")
    late: bool = Field(description="True when sent after its hard deadline (the notice gives the reasons)")
    sent_at: datetime


class BreachClosed(BreachEvent):
    """Sent when a breach is closed in the register."""

    event_type: ClassVar[str] = "io.privops.breach.closed"

    closed_at: datetime


class SubprocessorAffectedCustomersRequested(BreachEvent):
    """Sent when a breach happened at a subprocessor: asks the subprocessor service which customers use it."""

    event_type: ClassVar[str] = "io.privops.breach.subprocessor_affected_customers.requested"

    request_id: uuid.UUID = Field(description="Echoed in the answer (io.privops.subprocessor.customers.identified)")
    subprocessor_id: str


class BreachIndividualNoticeApproved(BreachEvent):
    """Sent when the controller customer approves a processor's notice to the people affected (Art. 34)."""

    event_type: ClassVar[str] = "io.privops.breach.individual_notice.approved"

    notice_id: uuid.UUID
    customer_id: str = Field(description="The customer on whose behalf the people are told")
    method: Literal["link", "recorded"] = Field(description="At the mailed link, or received by other means")
    approved_at: datetime


class BreachIndividualNoticeDeclined(BreachEvent):
    """Sent when the controller customer declines a processor's notice to the people affected."""

    event_type: ClassVar[str] = "io.privops.breach.individual_notice.declined"

    notice_id: uuid.UUID
    customer_id: str
    method: Literal["link", "recorded"]
    declined_at: datetime


class BreachIndividualNoticeCompleted(BreachEvent):
    """Sent when every delivery of a notice to individuals has reached an end (their addresses are then purged)."""

    event_type: ClassVar[str] = "io.privops.breach.individual_notice.completed"

    notice_id: uuid.UUID
    delivered: int = Field(ge=0, description="Deliveries the recipients' mail servers accepted")
    failed: int = Field(ge=0, description="Deliveries given up after the notify service's retries")
    unreachable: int = Field(ge=0, description="People without an address: never sent, with the reason")
    completed_at: datetime


class BreachPublicCommunicationRecorded(BreachEvent):
    """Sent when a public communication replaces telling each person (Art. 34(3)(c), disproportionate effort)."""

    event_type: ClassVar[str] = "io.privops.breach.public_communication.recorded"

    notice_id: uuid.UUID
    channel: str = Field(description="Where it was published (website, press, …)")
    published_at: datetime
