"""Shapes of notices: what to draft, the notice with its deliveries, sending and delivery outcomes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.breach.domain.clocks import Jurisdiction
from services.breach.domain.notices import NoticeField, NoticeKind, NoticeStage
from services.breach.schemas.examples import (
    AUTHORITY_NOTICE_EXAMPLE,
    CONTROLLER_NOTICE_EXAMPLE,
    INDIVIDUALS_NOTICE_EXAMPLE,
)
from services.breach.schemas.fields import CustomerId, Text


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
    customer_id: CustomerId | None = Field(default=None, description="Controller notices: which customer")
    to_follow: dict[NoticeField, Text] = Field(default={}, description="Fields not yet known, with the reason")
    delay_reasons: Text | None = Field(default=None, description="Required when the notice is late (Art. 33(1))")


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
    status: str
    detail: str | None
    requested_at: datetime
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
    sections: list[SectionOut]
    body: str = Field(description="The notice as plain text")
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
