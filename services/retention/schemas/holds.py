"""Legal holds: placing, releasing, reading one."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from services.retention.schemas.common import examples


class HoldIn(BaseModel):
    """A legal hold: what it covers (at least one of subject, category, system, matter) and why."""

    model_config = examples(
        {"subject_ref": "sr1_9f2c…", "reason": "Litigation case 2026-CV-0412, court order of 2026-02-12"},
        {"category": "invoice", "matter": "tax-audit-2025", "reason": "Tax audit of financial year 2025"},
    )

    subject_ref: str | None = Field(default=None, max_length=128)
    category: str | None = Field(default=None, max_length=32)
    system: str | None = Field(default=None, max_length=128)
    matter: str | None = Field(default=None, max_length=128)
    reason: str = Field(
        max_length=2000,
        description="Why the data is kept. Data stores and certificates of erasure give it as the reason (GDPR "
        "Art. 17(3)(e)): name the case or matter, never a person",
    )


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
