"""Subject schedules, the account-closure intake and the system registry."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from services.retention.schemas.common import examples


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
