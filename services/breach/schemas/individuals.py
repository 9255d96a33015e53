"""Shapes of telling the people affected (GDPR Art. 34): their contacts, the customer's approval, deliveries,
and a public communication instead (Art. 34(3)(c))."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator

from services.breach.schemas.fields import Label, Text
from services.breach.schemas.notices import DeliveryOut
from services.breach.schemas.settings import Email, Locale


class ContactIn(BaseModel):
    """How to reach one person affected: kept sealed, only to tell them of this breach."""

    model_config = ConfigDict(extra="forbid")

    email: Email
    name: Label | None = None
    locale: Locale | None = Field(default=None, description="Their language (en or fr read their own; else default)")


class ContactsIn(BaseModel):
    """People affected with their addresses; each is also attached to the register by subject reference."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"contacts": [{"email": "ada@example.com", "name": "Ada Lovelace", "locale": "en"}]}]
        },
    )

    contacts: list[ContactIn] = Field(min_length=1, max_length=10_000)


class ContactsOut(BaseModel):
    """How many people were attached, and how many of the incident's people can be reached by mail."""

    added: int = Field(description="People new to the incident")
    total: int = Field(description="People attached to the incident")
    with_address: int = Field(description="People of the incident with an address kept for the notice")


class ApprovalIn(BaseModel):
    """The customer's answer, received by other means (a signed letter, a call) and recorded by our DPO."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "decision": "approved",
                    "name": "Grace Hopper",
                    "email": "privacy@globex.example",
                    "means": "Signed approval attached to ticket SEC-118",
                }
            ]
        },
    )

    decision: Literal["approved", "declined"]
    name: Label = Field(description="Who decided for the customer")
    email: Email | None = None
    customer_reference: Label | None = Field(default=None, description="The customer's own reference of its answer")
    means: Text = Field(description="How the answer reached us")
    received_at: datetime | None = Field(default=None, description="When it reached us (now when omitted)")
    reason: Text | None = Field(default=None, description="Why it was declined (required then)")

    @model_validator(mode="after")
    def _declined_with_reason(self) -> ApprovalIn:
        if self.decision == "declined" and not self.reason:
            raise ValueError("a declined notice records the customer's reason")
        return self


class DecisionIn(BaseModel):
    """The customer's answer at the approval link."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"decision": "approve", "name": "Grace Hopper"}]}
    )

    decision: Literal["approve", "decline"]
    name: Label = Field(description="Who decides for the customer")
    email: Email | None = None
    reason: Text | None = Field(default=None, description="Why it is declined (required then)")

    @model_validator(mode="after")
    def _declined_with_reason(self) -> DecisionIn:
        if self.decision == "decline" and not self.reason:
            raise ValueError("say why the notice is declined, so that it can be redrafted")
        return self


class ApprovalOut(BaseModel):
    """One approval of a notice to individuals: asked for, then approved or declined (who, when, how)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    notice_id: uuid.UUID
    customer_id: str
    method: Literal["link", "recorded"]
    status: Literal["pending", "approved", "declined"]
    requested_by: str
    requested_at: datetime
    expires_at: datetime | None
    mail_status: str | None = Field(description="The approval link's mail: requested, sent, delivered, failed")
    mail_detail: str | None
    decided_at: datetime | None
    decided_by_name: str | None
    decided_by_email: str | None
    customer_reference: str | None
    means: str | None
    reason: str | None
    recorded_by: str | None


class PublicApprovalOut(BaseModel):
    """What the customer sees at the approval link: the notice to approve, in each language."""

    reference: str
    incident_title: str
    customer: str = Field(description="The customer's name as our settings know it")
    processor: str = Field(description="Us, who send the notice on the customer's behalf")
    status: Literal["pending", "approved", "declined"]
    expires_at: datetime | None
    recipients: int = Field(description="How many people are attached to the incident")
    bodies: dict[str, str] = Field(description="The notice, by language")


class PublicCommunicationIn(BaseModel):
    """A public communication instead of telling each person (GDPR Art. 34(3)(c): disproportionate effort)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "channel": "website",
                    "url": "https://example.com/security-notice",
                    "published_at": "2026-03-03T10:00:00Z",
                    "text": "On 2 March we found that …",
                    "reason": "No contact details are held for 40,000 former customers.",
                }
            ]
        },
    )

    channel: Label = Field(description="Where: website, press release, in-app banner …")
    url: AnyHttpUrl | None = None
    published_at: datetime
    text: str = Field(min_length=1, max_length=20_000, description="What was published")
    reason: Text = Field(description="Why telling each person would involve disproportionate effort")


class DeliveriesOut(BaseModel):
    """The deliveries of a notice, with how many are in each status."""

    notice_id: uuid.UUID
    total: int
    counts: dict[str, int] = Field(description="Deliveries per status (requested, sent, delivered, failed, …)")
    complete: bool = Field(description="True once every delivery reached an end")
    items: list[DeliveryOut]


class ApprovalClaimOut(BaseModel):
    """What the notify service needs to mail an approval link to the customer's contact (the claim contract)."""

    notification_id: uuid.UUID
    channel: Literal["email"] = "email"
    template: str = Field(examples=["breach.notice.approval"])
    locale: str | None
    to: str
    to_name: str | None
    webhook_url: None = None
    context: dict[str, Any] = Field(
        description="reference, incident_title, controller, processor, body, url, expires_at, recipients, contact"
    )
