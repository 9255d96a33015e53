"""Policies: the body of a policy, a stored version, the default pack's outcome."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from services.retention.schemas.common import examples


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
