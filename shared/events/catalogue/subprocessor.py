"""Subprocessor events: change proposals, notices to customers, objections, and changes taking effect.

Customers are named by their id in the tenant's register, subprocessors by theirs; objection
reasons and contact addresses stay in the subprocessor service (no free text, no address on the bus).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from shared.events import topics
from shared.events.catalogue import Event

ChangeKindName = Literal["add", "replace", "remove", "location_change", "purpose_change"]

__all__ = [
    "SubprocessorChangeCancelled",
    "SubprocessorChangeEffective",
    "SubprocessorChangeEvent",
    "SubprocessorChangeProposed",
    "SubprocessorCustomersIdentified",
    "SubprocessorNoticeSent",
    "SubprocessorObjectionReceived",
]


class SubprocessorChangeEvent(Event):
    """Common shape of the facts about one subprocessor change."""

    topic: ClassVar[str] = topics.SUBPROCESSOR_EVENTS
    producer: ClassVar[str] = "subprocessor"
    keyed_by: ClassVar[str] = "the change id"

    change_id: uuid.UUID = Field(description="The change proposal this event is about")


class SubprocessorChangeProposed(SubprocessorChangeEvent):
    """Sent when a subprocessor change is proposed and a notice is prepared for every affected customer."""

    event_type: ClassVar[str] = "io.privops.subprocessor.change.proposed"

    kind: ChangeKindName
    subprocessor_id: uuid.UUID
    replaces_subprocessor_id: uuid.UUID | None = None
    planned_effective_at: datetime = Field(description="The earliest date the change may take effect")
    customer_ids: list[str] = Field(description="Affected customers' references (the tenant's ids); one notice each")


class SubprocessorNoticeSent(SubprocessorChangeEvent):
    """Sent when a change notice has been delivered to a customer: its objection window starts now."""

    event_type: ClassVar[str] = "io.privops.subprocessor.notice.sent"

    notice_id: uuid.UUID
    customer_id: str = Field(description="The customer's reference (the tenant's own id for it)")
    channel: Literal["webhook", "email", "acknowledgement"] = Field(description="What proved the delivery")
    delivered_at: datetime
    objection_deadline: datetime = Field(description="The customer may object until this instant")


class SubprocessorObjectionReceived(SubprocessorChangeEvent):
    """Sent when a customer objects to a change within its window: the change is held for that customer."""

    event_type: ClassVar[str] = "io.privops.subprocessor.objection.received"

    objection_id: uuid.UUID
    customer_id: str = Field(description="The customer's reference (the tenant's own id for it)")
    raised_at: datetime


class SubprocessorChangeEffective(SubprocessorChangeEvent):
    """Sent when a change takes effect: every window closed and no objection stands."""

    event_type: ClassVar[str] = "io.privops.subprocessor.change.effective"

    kind: ChangeKindName
    subprocessor_id: uuid.UUID
    replaces_subprocessor_id: uuid.UUID | None = None
    effective_at: datetime
    customer_ids: list[str] = Field(description="References of the customers whose data the change now applies to")


class SubprocessorChangeCancelled(SubprocessorChangeEvent):
    """Sent when a change is cancelled, by the processor or as the resolution of an objection."""

    event_type: ClassVar[str] = "io.privops.subprocessor.change.cancelled"

    cause: Literal["processor", "objection"]
    cancelled_at: datetime


class SubprocessorCustomersIdentified(Event):
    """Sent by the subprocessor service in answer to a breach's question: the customers using a subprocessor."""

    event_type: ClassVar[str] = "io.privops.subprocessor.customers.identified"
    topic: ClassVar[str] = topics.SUBPROCESSOR_EVENTS
    producer: ClassVar[str] = "subprocessor"
    keyed_by: ClassVar[str] = "the subprocessor key"

    request_id: uuid.UUID = Field(description="The request_id of the breach service's question")
    subprocessor_id: str
    customer_ids: list[str] = Field(description="Customers (tenants' customer ids) whose data the subprocessor holds")
