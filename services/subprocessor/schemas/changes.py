"""Request and response shapes of changes, their notices, objections and resolutions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.subprocessor.domain import ChangeKind, ObjectionResolution
from services.subprocessor.schemas.common import examples
from services.subprocessor.schemas.demands import DemandNoticeContext
from services.subprocessor.schemas.register import LocationIn


class ChangeIn(BaseModel):
    """A proposed change: every affected customer receives a notice."""

    model_config = examples(
        {
            "kind": "replace",
            "subprocessor_id": "0b6b8a0c-6a1e-4f5e-9d1b-4a2b3c4d5e6f",
            "replaces_id": "6f1c1d3e-0d5e-4c36-8d0e-7b8f2c9a1e11",
            "effective_at": "2026-04-15T00:00:00Z",
            "summary": "MailRelay replaces PostBox for transactional email.",
        },
        {
            "kind": "location_change",
            "subprocessor_id": "6f1c1d3e-0d5e-4c36-8d0e-7b8f2c9a1e11",
            "effective_at": "2026-04-15T00:00:00Z",
            "summary": "Support moves to a US data centre.",
            "locations": [{"country": "IE"}, {"country": "US", "mechanism": "sccs"}],
        },
    )

    kind: ChangeKind
    subprocessor_id: uuid.UUID = Field(description="The subprocessor added, the replacement, or the one changed")
    replaces_id: uuid.UUID | None = Field(default=None, description="For a replacement: the subprocessor replaced")
    effective_at: datetime = Field(description="At least every affected customer's notice period from now")
    summary: str = Field(min_length=1, max_length=4000)
    customer_ids: list[uuid.UUID] | None = Field(
        default=None, description="For an addition: the customers concerned (default: every customer)"
    )
    locations: list[LocationIn] | None = Field(default=None, description="For a location change: the new list")
    purposes: list[str] | None = Field(default=None, description="For a purpose change: the new purposes")
    data_categories: list[str] | None = Field(default=None, description="For a purpose change: the new categories")


class LogEntryOut(BaseModel):
    """One step of a notice's delivery and acknowledgement history."""

    at: datetime
    kind: str
    outcome: str
    attempt: int | None
    status_code: int | None
    detail: dict[str, Any]
    notification_id: uuid.UUID | None = Field(default=None, description="An email request: the notify message id")


class NoticeOut(BaseModel):
    """A notice to one customer, with its delivery and acknowledgement history (the written proof)."""

    id: uuid.UUID
    change_id: uuid.UUID
    customer_id: uuid.UUID
    notice_period_days: int
    content: dict[str, Any]
    created_at: datetime
    delivered_at: datetime | None
    delivered_via: str | None
    objection_deadline: datetime | None
    acknowledged_at: datetime | None
    webhook_status: str
    webhook_attempts: int
    history: list[LogEntryOut] = Field(default_factory=list)


class ObjectionOut(BaseModel):
    """A customer's objection and its resolution."""

    id: uuid.UUID
    change_id: uuid.UUID
    customer_id: uuid.UUID
    reason: str
    raised_at: datetime
    raised_via: str
    resolution: str | None
    resolved_at: datetime | None
    resolution_note: str | None


class ChangeOut(BaseModel):
    """A change, its notices and objections, and what still keeps it from taking effect."""

    id: uuid.UUID
    kind: str
    subprocessor_id: uuid.UUID
    replaces_id: uuid.UUID | None
    proposed: dict[str, Any]
    summary: str
    state: str
    effective_at: datetime
    affected_customer_ids: list[str]
    proposed_at: datetime
    closed_at: datetime | None
    close_reason: str | None
    notices: list[NoticeOut] = Field(default_factory=list)
    objections: list[ObjectionOut] = Field(default_factory=list)
    blocking_reasons: list[str] = Field(default_factory=list)


class ObjectionIn(BaseModel):
    """An objection received from a customer (recorded by the tenant's staff)."""

    model_config = examples({"customer_id": "9a1c2b3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d", "reason": "US transfer."})

    customer_id: uuid.UUID
    reason: str = Field(min_length=1, max_length=4000)


class NoticeObjectionIn(BaseModel):
    """An objection sent by the customer itself, with the notice's token."""

    model_config = examples({"reason": "We cannot accept processing in the United States."})

    reason: str = Field(min_length=1, max_length=4000)


class ResolutionIn(BaseModel):
    """How an objection was settled."""

    model_config = examples({"resolution": "alternative_arranged", "note": "Globex stays on the EU-only plan."})

    resolution: ObjectionResolution
    note: str = Field(default="", max_length=4000)


class CancelIn(BaseModel):
    """Why the processor cancels a change."""

    model_config = examples({"reason": "The vendor contract was not signed."})

    reason: str = Field(min_length=1, max_length=4000)


class AcknowledgementOut(BaseModel):
    """A notice's acknowledgement."""

    notice_id: uuid.UUID
    acknowledged_at: datetime
    delivered_at: datetime | None
    objection_deadline: datetime | None


class ChangeNoticeContext(BaseModel):
    """The values of the ``subprocessor.change_notice`` template (links are absolute)."""

    subprocessor: str = Field(description="The subprocessor's name")
    replaces: str | None = Field(description="The name of the subprocessor it replaces, for a replacement")
    change_kind: str
    summary: str
    effective_at: datetime
    notice_period_days: int
    objection_allowed: bool
    objection_deadline: datetime | None = Field(description="Null until delivered: the window starts then")
    respond_url: str = Field(description="Base of the acknowledgement and objection links")
    respond_token: str = Field(description="The X-Notice-Token header that authorises an answer")
    answer_url: str | None = Field(
        default=None, description="The portal's page where the customer answers in a browser (when a portal is set)"
    )
    notice_id: uuid.UUID
    customer: str = Field(description="The customer's name")


class NotificationClaimOut(BaseModel):
    """What the notify service needs to send one email to a customer (the claim check every service answers alike)."""

    notification_id: uuid.UUID
    channel: Literal["email", "webhook"]
    template: str
    locale: str | None
    to: str | None
    to_name: str | None
    webhook_url: str | None = None
    context: ChangeNoticeContext | DemandNoticeContext


class PublicNoticeOut(BaseModel):
    """A notice as its customer reads it with the notice's token: the change and the customer's window."""

    notice_id: uuid.UUID
    tenant: str
    customer: str
    subprocessor: str
    replaces: str | None
    change_kind: str
    headline: str | None
    summary: str
    effective_at: datetime
    notice_period_days: int
    objection_allowed: bool
    objection_deadline: datetime | None = Field(description="Null until delivered: the window starts then")
    window_open: bool = Field(description="Whether the customer may still object now")
    delivered_at: datetime | None
    acknowledged_at: datetime | None
    objection: ObjectionOut | None = Field(description="The customer's objection to this change, if any")
