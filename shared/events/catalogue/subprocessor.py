"""Subprocessor events: change proposals, notices to customers, objections, changes taking effect, and
demands from public authorities with what was disclosed to them.

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
    "AuthorityDemandDecided",
    "AuthorityDemandDeferralLapsed",
    "AuthorityDemandEvent",
    "AuthorityDemandReceived",
    "PersonalDataDisclosed",
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


class AuthorityDemandEvent(Event):
    """Common shape of the facts about one demand from a public authority (no person's data, no free text)."""

    topic: ClassVar[str] = topics.SUBPROCESSOR_EVENTS
    producer: ClassVar[str] = "subprocessor"
    keyed_by: ClassVar[str] = "the demand id"

    demand_id: uuid.UUID = Field(description="The demand in the tenant's register of authority demands")


class AuthorityDemandReceived(AuthorityDemandEvent):
    """Sent when a demand from a public authority is recorded (GDPR Art. 28(3)(a), Art. 48)."""

    event_type: ClassVar[str] = "io.privops.subprocessor.demand.received"

    customer_id: str = Field(description="The customer's reference (the tenant's own id for it)")
    authority_country: str = Field(description="ISO 3166 alpha-2 code of the authority's country")
    received_at: datetime
    subjects: int = Field(ge=0, description="How many people the demand concerns")
    customer_notification: Literal["requested", "deferred", "no_contact"] = Field(
        description="Whether the customer is being told now, is not told yet for a recorded legal reason, "
        "or has no contact to tell"
    )


class AuthorityDemandDecided(AuthorityDemandEvent):
    """Sent when a person other than the one who recorded a demand decides it."""

    event_type: ClassVar[str] = "io.privops.subprocessor.demand.decided"

    decision: Literal["disclosed", "partially_disclosed", "refused", "challenged"]
    decided_at: datetime


class AuthorityDemandDeferralLapsed(AuthorityDemandEvent):
    """Sent when the legal reason for not telling a customer of a demand ran out: the privacy team must act."""

    event_type: ClassVar[str] = "io.privops.subprocessor.demand.deferral.lapsed"

    deferral_id: uuid.UUID
    until: datetime = Field(description="The end of the recorded prohibition")
    lapsed_at: datetime


class PersonalDataDisclosed(Event):
    """Sent when a person's data was disclosed to a recipient outside the tenant (an authority, on its demand)."""

    event_type: ClassVar[str] = "io.privops.subprocessor.personal_data.disclosed"
    topic: ClassVar[str] = topics.SUBPROCESSOR_EVENTS
    producer: ClassVar[str] = "subprocessor"

    disclosure_id: uuid.UUID
    subject_ref: str
    recipient: str = Field(max_length=255, description="Who received the data (the authority's name)")
    recipient_country: str = Field(description="ISO 3166 alpha-2 code of the recipient's country")
    categories: list[str] = Field(description="Categories of personal data disclosed")
    disclosed_at: datetime
    demand_id: uuid.UUID = Field(description="The authority demand the data was disclosed on")
