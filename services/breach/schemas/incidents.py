"""Shapes of the incident register: facts in, the incident and its clocks out, timeline, people attached."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.breach.domain.clocks import Jurisdiction, Role
from services.breach.domain.incidents import IncidentStatus, Nature, Sector
from services.breach.schemas.examples import INCIDENT_EXAMPLE
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
