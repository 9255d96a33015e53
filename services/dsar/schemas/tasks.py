"""Shapes of the tasks: one system's part of a request, its claim check and its export."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

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
