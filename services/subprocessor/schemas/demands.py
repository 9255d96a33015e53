"""Request and response shapes of the register of demands from public authorities."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.subprocessor.domain.demands import Decision
from services.subprocessor.schemas.common import examples

Category = Annotated[str, Field(min_length=1, max_length=100)]


class AuthorityIn(BaseModel):
    """The public authority that demands the data."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    country: str = Field(min_length=2, max_length=2, description="ISO 3166 alpha-2 code")


class LegalBasisIn(BaseModel):
    """The law the authority relies on: what it says, and its citation."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000)
    reference: str = Field(min_length=1, max_length=255, description="e.g. Code de procédure pénale, art. 60-1")


class SubjectIn(BaseModel):
    """A person the demand is about: the identifier is hashed into a subject reference and not kept."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(max_length=32, description="email, user_id, phone, customer_id, cookie_id or device_id")
    value: str = Field(min_length=1, max_length=320)


class DeferralIn(BaseModel):
    """The legal reason the customer may not be told yet (e.g. a court's non-disclosure order), and until when."""

    model_config = examples(
        {
            "reason": "The investigating judge forbids informing the customer during the investigation.",
            "instrument": "Ordonnance de non-divulgation, TJ Paris, 2026/118",
            "until": "2026-06-01T00:00:00Z",
        }
    )

    reason: str = Field(min_length=1, max_length=4000)
    instrument: str = Field(min_length=1, max_length=255)
    until: datetime


class DemandIn(BaseModel):
    """A demand received from a public authority for personal data processed for one customer."""

    model_config = examples(
        {
            "authority": {"name": "Brigade de répression de la délinquance astucieuse", "country": "FR"},
            "legal_basis": {"text": "Réquisition judiciaire", "reference": "Code de procédure pénale, art. 60-1"},
            "authority_reference": "BRDA-2026-0412",
            "received_at": "2026-03-02T08:30:00Z",
            "customer_id": "9a1c2b3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
            "subjects": [{"kind": "email", "value": "ada@example.com"}],
            "data_categories": ["contact_details", "connection_logs"],
        }
    )

    authority: AuthorityIn
    legal_basis: LegalBasisIn
    authority_reference: str = Field(min_length=1, max_length=255)
    received_at: datetime
    customer_id: uuid.UUID
    subjects: list[SubjectIn] = Field(min_length=1, max_length=500)
    data_categories: list[Category] = Field(min_length=1, max_length=50)
    deferral: DeferralIn | None = Field(default=None, description="Only with a legal reason: else the customer is told")


class ReviewIn(BaseModel):
    """A reviewer's decision on a demand and the reasons for it."""

    model_config = examples(
        {"decision": "partially_disclosed", "reasoning": "The requisition covers logs only; contact details refused."}
    )

    decision: Decision
    reasoning: str = Field(min_length=1, max_length=8000)


class DisclosureIn(BaseModel):
    """What was handed over about one person: by identifier (hashed, not kept) or by the demand's subject_ref."""

    model_config = examples(
        {
            "subject": {"kind": "email", "value": "ada@example.com"},
            "categories": ["connection_logs"],
            "records_count": 42,
            "channel": "encrypted archive handed to the officer",
            "disclosed_at": "2026-03-04T14:00:00Z",
        }
    )

    subject: SubjectIn | None = None
    subject_ref: str | None = Field(default=None, max_length=128)
    categories: list[Category] = Field(min_length=1, max_length=50)
    records_count: int = Field(ge=0)
    channel: str = Field(min_length=1, max_length=64)
    disclosed_at: datetime

    @model_validator(mode="after")
    def one_person(self) -> DisclosureIn:
        """Exactly one of ``subject`` and ``subject_ref`` names the person."""
        if (self.subject is None) == (self.subject_ref is None):
            raise ValueError("give either subject or subject_ref")
        return self


class CloseIn(BaseModel):
    """Why a demand is closed."""

    model_config = examples({"note": "Data handed over; the authority confirmed receipt."})

    note: str = Field(default="", max_length=4000)


class DeferralOut(BaseModel):
    """A recorded reason not to tell the customer yet."""

    id: uuid.UUID
    reason: str
    instrument: str
    until: datetime
    recorded_by: str
    recorded_at: datetime
    reminded_at: datetime | None
    ended_at: datetime | None


class DisclosureOut(BaseModel):
    """What was handed to the authority about one person."""

    id: uuid.UUID
    subject_ref: str
    categories: list[str]
    records_count: int
    channel: str
    disclosed_at: datetime
    recorded_by: str
    published_at: datetime | None


class TimelineEntryOut(BaseModel):
    """One step of a demand's history."""

    at: datetime
    kind: str
    outcome: str
    actor: str
    detail: dict[str, Any]
    notification_id: uuid.UUID | None
    contact_id: uuid.UUID | None


class DemandOut(BaseModel):
    """A demand as the register shows it, with its review, the customer's notification and its disclosures."""

    id: uuid.UUID
    customer_id: uuid.UUID
    authority_name: str
    authority_country: str
    outside_eea: bool = Field(description="A third country's authority: binding only through an agreement (Art. 48)")
    legal_basis: str
    legal_reference: str
    authority_reference: str
    received_at: datetime
    data_categories: list[str]
    subject_refs: list[str]
    status: str
    recorded_by: str
    recorded_at: datetime
    reviewer: str | None
    reviewed_at: datetime | None
    decision: str | None
    reasoning: str | None
    notification: str
    notification_requested_at: datetime | None
    customer_notified_at: datetime | None
    closed_at: datetime | None
    deferrals: list[DeferralOut] = Field(default_factory=list)
    disclosures: list[DisclosureOut] = Field(default_factory=list)
    timeline: list[TimelineEntryOut] = Field(default_factory=list)


class DemandNoticeContext(BaseModel):
    """The values of the ``subprocessor.demand.received`` template."""

    customer: str = Field(description="The customer's name")
    authority: str
    authority_country: str
    legal_basis: str
    legal_reference: str
    authority_reference: str
    received_at: datetime
    subjects: int = Field(description="How many people the demand concerns")
    data_categories: list[str]
    demand_id: uuid.UUID
