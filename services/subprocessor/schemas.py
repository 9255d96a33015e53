"""Request and response shapes of the subprocessor API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.subprocessor.domain import ChangeKind, ObjectionResolution, TransferMechanism


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


class LocationIn(BaseModel):
    """A country where the subprocessor processes data, with the transfer mechanism when outside the EEA."""

    model_config = ConfigDict(extra="forbid")

    country: str = Field(min_length=2, max_length=3, description="ISO 3166 alpha-2 code (EPO for the EPO)")
    mechanism: TransferMechanism | None = Field(default=None, description="Required outside the EEA")


class SubprocessorIn(BaseModel):
    """A subprocessor to enter in the register (active: already in use; proposed: to be added by a change)."""

    model_config = _examples(
        {
            "name": "MailRelay",
            "legal_entity": "MailRelay Inc., 1 Market St, San Francisco, CA, USA",
            "service": "Transactional email delivery",
            "purposes": ["transactional_email"],
            "data_categories": ["contact_details"],
            "locations": [{"country": "IE"}, {"country": "US", "mechanism": "sccs"}],
            "dpa_signed_on": "2026-01-15",
            "status": "proposed",
        }
    )

    name: str = Field(min_length=1, max_length=128)
    legal_entity: str = Field(min_length=1, max_length=255)
    service: str = Field(min_length=1, max_length=2000)
    purposes: list[str] = Field(min_length=1, max_length=50)
    data_categories: list[str] = Field(min_length=1, max_length=50)
    locations: list[LocationIn] = Field(min_length=1, max_length=50)
    dpf_certified: bool = Field(default=False, description="The importer's active DPF certification was checked")
    dpa_signed_on: date | None = None
    website: str | None = Field(default=None, max_length=512)
    status: Literal["proposed", "active"] = "proposed"


class SubprocessorOut(BaseModel):
    """A subprocessor as the register shows it now."""

    id: uuid.UUID
    name: str
    legal_entity: str
    service: str
    purposes: list[str]
    data_categories: list[str]
    locations: list[dict[str, Any]]
    dpf_certified: bool
    dpa_signed_on: date | None
    website: str | None
    status: str
    version: int
    created_at: datetime
    updated_at: datetime


class SubprocessorVersionOut(BaseModel):
    """One version in a subprocessor's history."""

    version: int
    reason: str
    change_id: uuid.UUID | None
    actor: str
    snapshot: dict[str, Any]
    recorded_at: datetime


class ContactIn(BaseModel):
    """A person at the customer who receives notices by email."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    role: str = Field(default="privacy", min_length=1, max_length=64)


class ContactOut(BaseModel):
    """A contact, named by its subject reference (the address is shown only to the notification sender)."""

    id: uuid.UUID
    subject_ref: str
    role: str
    restricted: bool


class CustomerIn(BaseModel):
    """A customer (controller) and its contract terms."""

    model_config = _examples(
        {
            "reference": "globex",
            "name": "Globex Corporation",
            "notice_period_days": 30,
            "webhook_url": "https://privacy.globex.example/hooks/subprocessors",
            "contacts": [{"email": "dpo@globex.example", "role": "dpo"}],
            "subprocessor_ids": ["6f1c1d3e-0d5e-4c36-8d0e-7b8f2c9a1e11"],
        }
    )

    reference: str = Field(min_length=1, max_length=128, description="The tenant's own id for this customer")
    name: str = Field(min_length=1, max_length=255)
    notice_period_days: int = Field(default=15, ge=1, le=365, description="Agreed notice period (default 15 days)")
    webhook_url: str | None = Field(default=None, max_length=2048, description="https outside local/test")
    contacts: list[ContactIn] = Field(default_factory=list, max_length=20)
    subprocessor_ids: list[uuid.UUID] = Field(default_factory=list, description="Active subprocessors it uses")


class CustomerOut(BaseModel):
    """A customer, its contacts and the subprocessors processing its data."""

    id: uuid.UUID
    reference: str
    name: str
    notice_period_days: int
    webhook_url: str | None
    contacts: list[ContactOut]
    subprocessor_ids: list[uuid.UUID]
    created_at: datetime
    webhook_secret: str | None = Field(
        default=None, description="Shown only when the customer is created: verify Privops-Signature with it"
    )


class CustomerSubprocessorsIn(BaseModel):
    """The subprocessors that process one customer's data (replaces the current list)."""

    model_config = _examples({"subprocessor_ids": ["6f1c1d3e-0d5e-4c36-8d0e-7b8f2c9a1e11"]})

    subprocessor_ids: list[uuid.UUID] = Field(max_length=500)


class ChangeIn(BaseModel):
    """A proposed change: every affected customer receives a notice."""

    model_config = _examples(
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

    model_config = _examples({"customer_id": "9a1c2b3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d", "reason": "US transfer."})

    customer_id: uuid.UUID
    reason: str = Field(min_length=1, max_length=4000)


class NoticeObjectionIn(BaseModel):
    """An objection sent by the customer itself, with the notice's token."""

    model_config = _examples({"reason": "We cannot accept processing in the United States."})

    reason: str = Field(min_length=1, max_length=4000)


class ResolutionIn(BaseModel):
    """How an objection was settled."""

    model_config = _examples({"resolution": "alternative_arranged", "note": "Globex stays on the EU-only plan."})

    resolution: ObjectionResolution
    note: str = Field(default="", max_length=4000)


class CancelIn(BaseModel):
    """Why the processor cancels a change."""

    model_config = _examples({"reason": "The vendor contract was not signed."})

    reason: str = Field(min_length=1, max_length=4000)


class AcknowledgementOut(BaseModel):
    """A notice's acknowledgement."""

    notice_id: uuid.UUID
    acknowledged_at: datetime
    delivered_at: datetime | None
    objection_deadline: datetime | None


class NotificationClaimOut(BaseModel):
    """What the notification sender needs to send one notice email (claim check)."""

    notification_id: uuid.UUID
    channel: Literal["email"]
    to: str
    subject: str
    body: dict[str, Any]
