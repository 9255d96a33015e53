"""Shapes of the tasks: one system's part of a request, its claim check and its export."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, Field, field_validator, model_validator

from services.dsar.schemas.common import KEY_PATTERN, examples_config


class TaskOut(BaseModel):
    """One system's part of a request."""

    id: uuid.UUID
    request_id: uuid.UUID
    system: str
    action: str
    state: str
    outcome: str | None
    attempt: int
    due_at: datetime
    published_at: datetime
    acknowledged_at: datetime | None
    escalated_at: datetime | None
    records_affected: int
    exemption: str | None
    detail: str | None
    error: str | None
    recipients: list[str]
    exported_records: int | None
    closed_at: datetime | None
    manual: bool = Field(description="A manual system's task: not published, closed by hand")
    closed_by: str | None = Field(description="Who closed the task by hand (token subject); null when a store answered")
    evidence: str | None = Field(description="What the person who closed it did, and where the proof is")
    close_reason: str | None = Field(description="Why an admin closed a store's task by hand")
    instructions: str | None = Field(default=None, description="A manual system's instructions (from the registry)")
    contact: str | None = Field(default=None, description="Who carries out a manual system's tasks (registry)")


class ClaimOut(BaseModel):
    """What a store needs to act: the subject's identifiers and the request's details (claim check)."""

    task_id: uuid.UUID
    request_id: uuid.UUID
    action: str
    system: str
    request_type: str
    jurisdiction: str
    subject_ref: str
    identifiers: list[dict[str, str]]
    details: dict[str, Any]
    recipients: list[str] = Field(description="Recipients to tell of a rectification or erasure (Art. 19)")
    due_at: datetime
    attempt: int


class ExportIn(BaseModel):
    """A store's export for an access or portability task."""

    model_config = examples_config(
        {"system": "crm", "format": "json", "records": [{"table": "contacts", "name": "Ada"}]}
    )
    system: str = Field(pattern=KEY_PATTERN)
    format: Literal["json"] = "json"
    records: list[dict[str, Any]] = Field(max_length=100_000)


def _text(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise ValueError("must not be blank")
    return value.strip() if value is not None else None


class TaskCloseIn(BaseModel):
    """A person's answer in a system's place: what was done, with the evidence (like a store's result)."""

    model_config = examples_config(
        {
            "outcome": "done",
            "records_affected": 1,
            "evidence": "Customer file shredded on 6 Dec 2026 (cabinet C, shredding slip S-2291 kept by facilities).",
        },
        {
            "outcome": "exempt",
            "exemption": "Invoices kept 10 years under the French Commercial Code (GDPR Art. 17(3)(b))",
            "evidence": "Checked the billing database by hand; 3 invoices kept, nothing else held.",
            "reason": "The billing store was decommissioned; its database is read by hand until migration.",
        },
    )
    outcome: Literal["done", "no_data", "exempt"]
    records_affected: int = Field(default=0, ge=0, le=1_000_000_000)
    exemption: str | None = Field(
        default=None, max_length=2000, description="The legal reason data was kept (required when exempt)"
    )
    evidence: str = Field(
        min_length=1, max_length=4000, description="What was done and where the proof is (kept in the certificate)"
    )
    reason: str | None = Field(
        default=None, max_length=2000, description="Why a store's task is closed by hand (required for an admin)"
    )
    records: list[dict[str, Any]] | None = Field(
        default=None,
        max_length=100_000,
        description="An access or portability task closed as done: the records found, for the subject's package",
    )

    _not_blank = field_validator("exemption", "evidence", "reason")(_text)

    @model_validator(mode="after")
    def _exemption_when_exempt(self) -> Self:
        if self.outcome == "exempt" and not self.exemption:
            raise ValueError("exemption: the legal reason is required when the outcome is exempt")
        return self


class TaskRetryIn(BaseModel):
    """Why a task is published again (kept in the audit log)."""

    model_config = examples_config({"reason": "The CRM store was down over the weekend; it is back."})
    reason: str = Field(min_length=3, max_length=2000)
