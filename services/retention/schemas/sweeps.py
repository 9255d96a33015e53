"""Sweeps (the evidence), the preview and the retention report."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from services.retention.schemas.common import examples
from services.retention.schemas.holds import HoldOut
from services.retention.schemas.policies import PolicyOut


class SweepRunIn(BaseModel):
    """Run the sweep now for some of the tenant's systems and categories (all when omitted)."""

    model_config = examples({"system": "crm", "category": "prospect"}, {})

    system: str | None = Field(default=None, max_length=128)
    category: str | None = Field(default=None, max_length=32)


class SweepOut(BaseModel):
    """One sweep command and its answer: the evidence of a retention run."""

    id: uuid.UUID
    kind: str
    system: str
    category: str
    purpose: str | None
    action: str
    cutoff: datetime | None
    policy_id: uuid.UUID | None
    policy_version: int | None
    subject_count: int
    held_subject_refs: list[str]
    held_matters: list[str]
    hold_ids: list[str]
    status: str
    requested_by: str
    requested_at: datetime
    attempts: int
    escalated_at: datetime | None
    completed_at: datetime | None
    counts: dict[str, int]
    detail: str | None


class PreviewStep(BaseModel):
    """One command a sweep would send."""

    action: str
    cutoff: datetime


class PreviewItem(BaseModel):
    """What a sweep of one system and category would do now."""

    system: str
    category: str
    policy_id: uuid.UUID | None
    policy_version: int | None
    steps: list[PreviewStep]
    whole_sweep_held: bool
    held_subject_refs: list[str]
    held_matters: list[str]
    hold_ids: list[str]
    due_subject_schedules: int
    note: str | None


class SystemSweepStatus(BaseModel):
    """The sweep state of one system and category."""

    system: str
    category: str
    next_sweep_at: datetime
    last_sweep: SweepOut | None
    sweep_late: bool


class ReportOut(BaseModel):
    """The retention report of a tenant."""

    tenant_id: str
    generated_at: datetime
    policies: list[PolicyOut]
    systems: list[SystemSweepStatus]
    overdue_sweeps: list[SweepOut]
    holds: list[HoldOut]
    schedules_by_status: dict[str, int]
