"""Shapes of notices: what to draft, the notice with its deliveries, sending and delivery outcomes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.breach.domain.clocks import Jurisdiction
from services.breach.domain.notices import NoticeField, NoticeKind, NoticeStage
from services.breach.schemas.examples import (
    AUTHORITY_NOTICE_EXAMPLE,
    CONTROLLER_NOTICE_EXAMPLE,
    INDIVIDUALS_NOTICE_EXAMPLE,
)
from services.breach.schemas.fields import CustomerId, Text


class WordingIn(BaseModel):
    """What a notice to individuals says in one language, in the words of its readers (else the incident's)."""

    model_config = ConfigDict(extra="forbid")

    plain_summary: Text | None = None
    likely_consequences: Text | None = None
    measures: list[Text] | None = None
    advice: list[Text] | None = None


class NoticeIn(BaseModel):
    """A notice to draft from the incident's current facts."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "authority",
                    "stage": "initial",
                    "jurisdiction": "eu-gdpr",
                    "to_follow": {"approximate_records": "The log analysis is still running."},
                },
                {"kind": "controller", "stage": "initial", "customer_id": "cust-42"},
                {"kind": "individuals"},
            ]
        },
    )

    kind: NoticeKind
    stage: NoticeStage = NoticeStage.INITIAL
    jurisdiction: Jurisdiction | None = Field(default=None, description="Authority notices: whose authority")
    customer_id: CustomerId | None = Field(
        default=None,
        description="Controller notices: which customer; individuals' notices as processor: on whose behalf",
    )
    to_follow: dict[NoticeField, Text] = Field(default={}, description="Fields not yet known, with the reason")
    delay_reasons: Text | None = Field(default=None, description="Required when the notice is late (Art. 33(1))")
    wording: dict[Literal["en", "fr"], WordingIn] = Field(
        default={}, description="Individuals' notices: what it says in each language, in plain words"
    )


class SectionOut(BaseModel):
    """One content item of a notice."""

    field: str
    heading: str
    text: str | None
    to_follow: str | None = None


class DeliveryOut(BaseModel):
    """One delivery of a sent notice."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    recipient_ref: str
    channel: str
    status: str = Field(
        description="requested, sent, delivered, failed (with the reason in detail), submitted, unreachable"
    )
    detail: str | None
    attempts: int = 0
    requested_at: datetime
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    failed_at: datetime | None = None
    updated_at: datetime


class NoticeOut(BaseModel):
    """A notice draft, or a sent (frozen) notice with its deliveries."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [AUTHORITY_NOTICE_EXAMPLE, CONTROLLER_NOTICE_EXAMPLE, INDIVIDUALS_NOTICE_EXAMPLE]
        },
    )

    id: uuid.UUID
    incident_id: uuid.UUID
    kind: NoticeKind
    stage: NoticeStage
    jurisdiction: str | None
    customer_id: str | None
    recipient: str
    contact: dict[str, str | None] | None = Field(default=None, description="The contact point it names")
    sections: list[SectionOut]
    body: str = Field(description="The notice as plain text")
    bodies: dict[str, str] = Field(default={}, description="Individuals' notices: the text in each language")
    approval_status: Literal["pending", "approved", "declined"] | None = Field(
        default=None, description="A processor's notice to individuals: the customer's answer (null: not needed)"
    )
    public_communication: dict[str, Any] | None = Field(
        default=None, description="Art. 34(3)(c): the public communication made instead of telling each person"
    )
    delay_reasons: str | None
    previous_notice_id: uuid.UUID | None
    status: Literal["draft", "sent"]
    late: bool
    created_at: datetime
    sent_at: datetime | None
    sent_by: str | None
    deliveries: list[DeliveryOut] = []


class SendIn(BaseModel):
    """Sending a draft: reasons for a delay may be added now."""

    model_config = ConfigDict(extra="forbid")

    delay_reasons: Text | None = None


class DeliveryUpdateIn(BaseModel):
    """A delivery outcome reported by the sender (or by a person after a portal submission)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"status": "delivered"}]})

    status: Literal["delivered", "failed", "submitted"]
    detail: str | None = Field(default=None, max_length=2000)


class ClaimContact(BaseModel):
    """The contact point the notice names (Art. 33(3)(b))."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None


class ClaimContext(BaseModel):
    """The values of the ``breach.notice.<kind>`` templates."""

    reference: str
    incident_title: str
    stage: NoticeStage
    kind: NoticeKind
    body: str = Field(description="The drafted notice, as sent (plain text)")
    contact: ClaimContact
    jurisdiction: str | None
    on_behalf_of: str | None = Field(default=None, description="Individuals' notices: the controller we write for")
    person_name: str | None = Field(default=None, description="Individuals' notices: the person's name, if given")


class ClaimOut(BaseModel):
    """What the notify service needs to deliver one notice (the claim check every service answers alike)."""

    notification_id: uuid.UUID
    channel: Literal["email", "webhook"]
    template: str = Field(examples=["breach.notice.authority"])
    locale: str | None
    to: str | None
    to_name: str | None
    webhook_url: str | None = None
    context: ClaimContext
