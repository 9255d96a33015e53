"""Request and response shapes of the breach API, with examples for /docs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.breach.domain.clocks import Jurisdiction, Role
from services.breach.domain.incidents import IncidentStatus, Nature, Sector
from services.breach.domain.notices import NoticeField, NoticeKind, NoticeStage
from services.breach.domain.severity import (
    AvailabilityLoss,
    ConfidentialityLoss,
    ContextFactor,
    DataCategory,
    EaseOfIdentification,
    ExemptionGround,
    IntegrityLoss,
    RiskLevel,
)
from services.breach.examples import (
    AUTHORITY_NOTICE_EXAMPLE,
    CONTROLLER_NOTICE_EXAMPLE,
    INCIDENT_EXAMPLE,
    INDIVIDUALS_NOTICE_EXAMPLE,
)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
SubjectRef = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
CustomerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")]


class IncidentFacts(BaseModel):
    """Facts of an incident that may change as the investigation goes on."""

    model_config = ConfigDict(extra="forbid")

    title: Label | None = None
    description: Text | None = None
    determined_at: datetime | None = Field(default=None, description="When the breach was determined notifiable")
    nature: list[Nature] | None = Field(default=None, min_length=1)
    systems: list[Label] | None = None
    data_categories: list[Label] | None = None
    data_subject_categories: list[Label] | None = None
    approximate_subjects: int | None = Field(default=None, ge=0)
    approximate_records: int | None = Field(default=None, ge=0)
    jurisdictions: list[Jurisdiction] | None = Field(default=None, description="Where the people affected live")
    sectors: list[Sector] | None = Field(default=None, description="Sector regimes in scope: nis2, dora, hipaa")
    role: Role | None = None
    customers: list[CustomerId] | None = Field(default=None, description="Customers affected (processor role)")
    containment: Text | None = None
    measures_taken: list[Text] | None = None
    measures_proposed: list[Text] | None = None
    likely_consequences: Text | None = None
    plain_summary: Text | None = Field(default=None, description="The nature in everyday words, for the people")
    advice: list[Text] | None = Field(default=None, description="What the people can do to protect themselves")


class IncidentIn(IncidentFacts):
    """A breach to enter in the register."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [INCIDENT_EXAMPLE]})

    title: Label
    description: Text
    detected_at: datetime
    aware_at: datetime = Field(description="When we became aware: every legal clock starts here")
    reporter: Label
    nature: list[Nature] = Field(min_length=1)
    jurisdictions: list[Jurisdiction] = Field(min_length=1)
    role: Role = Role.CONTROLLER
    subprocessor_id: CustomerId | None = Field(default=None, description="The subprocessor where it happened")


class IncidentPatch(IncidentFacts):
    """Changes to an incident; every change is kept in its timeline."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"approximate_subjects": 1250, "measures_taken": ["Keys rotated"]}]},
    )


class DeadlineOut(BaseModel):
    """A legal clock of an incident."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    jurisdiction: str
    audience: str
    recipient: str
    starts_at: datetime
    due_at: datetime | None
    target_at: datetime
    rule: str
    citation: str
    verify: bool
    provisional: bool
    status: str
    met_at: datetime | None


class IncidentOut(BaseModel):
    """An incident of the register."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    reference: str = Field(
        description="`BR-<year of awareness>-<n>`: numbered per tenant and year, consecutively, never given twice"
    )
    title: str
    description: str
    detected_at: datetime
    aware_at: datetime
    determined_at: datetime | None
    reporter: str
    nature: list[str]
    systems: list[str]
    data_categories: list[str]
    data_subject_categories: list[str]
    approximate_subjects: int | None
    approximate_records: int | None
    jurisdictions: list[str]
    sectors: list[str]
    role: str
    customers: list[str]
    subprocessor_id: str | None
    containment: str | None
    measures_taken: list[str]
    measures_proposed: list[str]
    likely_consequences: str | None
    plain_summary: str | None
    advice: list[str]
    status: IncidentStatus
    risk: str | None
    notify_authority: bool | None
    notify_individuals: bool | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    deadlines: list[DeadlineOut] = []
    affected_subject_refs: int = Field(default=0, description="How many subject references are attached")


class TimelineOut(BaseModel):
    """One change in an incident's timeline."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    kind: str
    detail: dict[str, Any]


class AdjustmentIn(BaseModel):
    """An ENISA contextual factor moving the DPC score."""

    factor: ContextFactor
    delta: int = Field(ge=-3, le=3)
    reason: Text


class DataSetIn(BaseModel):
    """A category of breached data."""

    category: DataCategory
    adjustments: list[AdjustmentIn] = []
    description: str = Field(default="", max_length=500)


class CircumstancesIn(BaseModel):
    """What happened to the data (ENISA CB)."""

    confidentiality: ConfidentialityLoss = ConfidentialityLoss.NONE
    integrity: IntegrityLoss = IntegrityLoss.NONE
    availability: AvailabilityLoss = AvailabilityLoss.NONE
    malicious_intent: bool = False


class ExemptionIn(BaseModel):
    """A documented Art. 34(3) ground for not telling each person."""

    ground: ExemptionGround
    reason: Text


class AssessmentIn(BaseModel):
    """An ENISA severity assessment."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "data_sets": [{"category": "financial", "description": "card numbers (last 4 digits)"}],
                    "ease_of_identification": "maximum",
                    "circumstances": {"confidentiality": "unknown_recipients", "malicious_intent": True},
                    "rationale": "Exfiltration by an attacker; names and e-mail addresses identify people directly.",
                }
            ]
        },
    )

    data_sets: list[DataSetIn] = Field(min_length=1)
    ease_of_identification: EaseOfIdentification
    circumstances: CircumstancesIn = CircumstancesIn()
    rationale: Text = Field(description="The assessor's reasoning, kept with the score")
    exemption: ExemptionIn | None = None


class OverrideIn(BaseModel):
    """A person's decision overriding the ENISA outcome, with the documented reason."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"risk": "high_risk", "reason": "Data of children: the DPO treats it as high risk."}]
        },
    )

    risk: RiskLevel
    reason: str = Field(max_length=2000)
    exemption: ExemptionIn | None = None


class AssessmentOut(BaseModel):
    """A recorded assessment or override and the notification decision."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    basis: str
    inputs: dict[str, Any]
    dpc: int | None
    ei: float | None
    cb: float | None
    score: float | None
    severity_level: str | None
    risk: str
    notify_authority: bool
    notify_individuals: bool
    public_communication: bool
    rationale: str
    assessor_rationale: str | None
    override_reason: str | None
    decided_by: str
    decided_at: datetime


class SubjectsIn(BaseModel):
    """Keyed subject references of people affected (never raw identifiers)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"subject_refs": ["ab" * 32]}]})

    subject_refs: list[SubjectRef] = Field(min_length=1, max_length=10_000)


class SubjectsOut(BaseModel):
    """How many references were attached."""

    added: int
    total: int


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


class CloseIn(BaseModel):
    """Closing an incident."""

    model_config = ConfigDict(extra="forbid")

    reason: Text
