"""Shapes of the incident register: facts in, the incident and its clocks out, timeline, people attached."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.breach.domain.clocks import Jurisdiction, Role
from services.breach.domain.incidents import IncidentStatus, Nature, Sector
from services.breach.schemas.examples import INCIDENT_EXAMPLE, SECTOR_INCIDENT_EXAMPLE
from services.breach.schemas.fields import CustomerId, Label, SubjectRef, Text


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
    sectors: list[Sector] | None = Field(
        default=None, description="Sector regimes in scope: nis2, dora, hipaa (the same as the three flags below)"
    )
    nis2_entity: bool | None = Field(
        default=None,
        description=(
            "We are an essential or important entity under NIS2 (Directive (EU) 2022/2555, Art. 3) and this is a "
            "significant incident: the eu-nis2 clocks of Art. 23(4) run (early warning 24 h, incident "
            "notification 72 h, final report one month). Required when `jurisdictions` lists eu-nis2."
        ),
    )
    dora_entity: bool | None = Field(
        default=None,
        description=(
            "We are a financial entity under DORA (Reg. (EU) 2022/2554) and this is a major ICT-related incident: "
            "the eu-dora clocks of Art. 19(4) run (initial notification at most 24 h after awareness, intermediate "
            "report 72 h, final report one month). Required when `jurisdictions` lists eu-dora."
        ),
    )
    hipaa_in_scope: bool | None = Field(
        default=None,
        description=(
            "The data is protected health information held as a HIPAA covered entity or business associate: the "
            "us-hipaa clocks of 45 CFR 164.404-410 run (individuals, HHS and media within 60 days of discovery; a "
            "business associate tells the covered entity). Required when `jurisdictions` lists us-hipaa."
        ),
    )
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

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [INCIDENT_EXAMPLE, SECTOR_INCIDENT_EXAMPLE]}
    )

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
    status: str = Field(
        description="open; overdue (open and past `due_at`, read at request time); met; not_applicable; cancelled"
    )
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
    nis2_entity: bool = Field(default=False, description="The NIS2 clocks run (sector nis2)")
    dora_entity: bool = Field(default=False, description="The DORA clocks run (sector dora)")
    hipaa_in_scope: bool = Field(default=False, description="The HIPAA clocks run (sector hipaa)")
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


class SubjectsIn(BaseModel):
    """Keyed subject references of people affected (never raw identifiers)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"subject_refs": ["ab" * 32]}]})

    subject_refs: list[SubjectRef] = Field(min_length=1, max_length=10_000)


class SubjectsOut(BaseModel):
    """How many references were attached."""

    added: int
    total: int


class CloseIn(BaseModel):
    """Closing an incident."""

    model_config = ConfigDict(extra="forbid")

    reason: Text
