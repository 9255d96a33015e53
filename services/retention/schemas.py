"""Request and response shapes of the retention API (with examples for /docs)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

KEY_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"


def examples(*items: dict[str, Any]) -> ConfigDict:
    """A model configuration refusing unknown fields, with examples for the OpenAPI document."""
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(items)})


class PolicyIn(BaseModel):
    """A retention policy: which data, how long from which event, what then, and on what legal basis."""

    model_config = examples(
        {
            "category": "prospect",
            "period": "P3Y",
            "clock_start": "last_contact",
            "action": "delete",
            "legal_reference": "CNIL référentiel « gestion des activités commerciales »",
        },
        {
            "category": "customer",
            "system": "crm",
            "period": "P1Y",
            "clock_start": "last_order",
            "clock_not_before": "contract_end",
            "action": "archive_then_delete",
            "archive_period": "P5Y",
            "legal_reference": "Code de commerce art. L110-4",
        },
    )

    category: str = Field(max_length=32, description="prospect, customer, consent_based, cookie, connection_log, …")
    system: str | None = Field(default=None, max_length=128, description="Only this system's data, when set")
    purpose: str | None = Field(default=None, max_length=128, description="Only data kept for this purpose")
    period: str = Field(max_length=32, description="ISO 8601 duration, e.g. P3Y, P13M, P90D")
    clock_start: str = Field(max_length=32, description="collection, last_contact, last_order, consent_given, …")
    action: str = Field(max_length=32, description="delete, anonymise or archive_then_delete")
    archive_period: str | None = Field(default=None, max_length=32, description="For archive_then_delete")
    clock_not_before: str | None = Field(default=None, max_length=32, description="Clock never starts before this")
    grace_period: str | None = Field(
        default=None, max_length=32, description="After a consent ends, how long before its data is due"
    )
    legal_reference: str = Field(max_length=2000)


class PolicyOut(BaseModel):
    """One version of a retention policy."""

    policy_id: uuid.UUID
    version: int
    is_current: bool
    category: str
    system: str | None
    purpose: str | None
    period: str
    clock_start: str
    action: str
    archive_period: str | None
    clock_not_before: str | None
    grace_period: str | None
    legal_reference: str
    source: str
    created_by: str
    created_at: datetime
    superseded_at: datetime | None


class DefaultPackOut(BaseModel):
    """The result of installing the default policy pack."""

    installed: list[PolicyOut]
    kept: list[PolicyOut] = Field(description="Policies the tenant already had for the same scope; left unchanged")


class SystemIn(BaseModel):
    """A system of the product and the categories of personal data it holds."""

    model_config = examples({"categories": ["customer", "invoice"], "description": "Billing and invoicing"})

    categories: list[str] = Field(max_length=32)
    description: str | None = Field(default=None, max_length=500)


class SystemOut(BaseModel):
    """A registered system."""

    key: str
    description: str | None
    categories: list[str]


class HoldIn(BaseModel):
    """A legal hold: what it covers (at least one of subject, category, system, matter) and why."""

    model_config = examples(
        {"subject_ref": "sr1_9f2c…", "reason": "Litigation Dupont v. Example, court order of 2026-02-12"},
        {"category": "invoice", "matter": "tax-audit-2025", "reason": "Tax audit of financial year 2025"},
    )

    subject_ref: str | None = Field(default=None, max_length=128)
    category: str | None = Field(default=None, max_length=32)
    system: str | None = Field(default=None, max_length=128)
    matter: str | None = Field(default=None, max_length=128)
    reason: str = Field(max_length=2000)


class ReleaseIn(BaseModel):
    """Why a hold is released."""

    model_config = examples({"reason": "Case settled on 2026-10-01"})

    reason: str | None = Field(default=None, max_length=2000)


class HoldOut(BaseModel):
    """A legal hold, active or released."""

    id: uuid.UUID
    subject_ref: str | None
    category: str | None
    system: str | None
    matter: str | None
    reason: str
    placed_by: str
    placed_at: datetime
    released_at: datetime | None
    released_by: str | None
    release_reason: str | None


class AccountClosedIn(BaseModel):
    """An account was closed: the subject's account data is due after the account policy's period."""

    model_config = examples({"subject_ref": "sr1_9f2c…", "closed_at": "2026-03-02T09:00:00Z"})

    subject_ref: str = Field(min_length=1, max_length=128)
    closed_at: datetime | None = Field(default=None, description="When the account was closed; defaults to now")


class ScheduleOut(BaseModel):
    """A subject-level deletion schedule."""

    id: uuid.UUID
    subject_ref: str
    category: str
    purpose: str | None
    action: str
    reason: str
    status: str
    policy_id: uuid.UUID | None
    policy_version: int | None
    due_at: datetime
    created_at: datetime
    closed_at: datetime | None


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
