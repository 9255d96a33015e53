"""Request and response shapes of the consent API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.consent.domain.identifiers import IdentifierKind


class SubjectIdentifier(BaseModel):
    """One identifier of the data subject; it is normalised and stored only as a keyed hash."""

    kind: IdentifierKind
    value: str = Field(min_length=1, max_length=320)


class ConsentIn(BaseModel):
    """A consent decision to record."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subject": {"kind": "email", "value": "ada@example.com"},
                    "purpose": "marketing_email",
                    "decision": "granted",
                    "channel": "web",
                }
            ]
        },
    )

    subject: SubjectIdentifier
    purpose: str = Field(min_length=1, max_length=128, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    decision: Literal["granted", "denied", "withdrawn"]
    channel: str | None = Field(default=None, max_length=64)
    occurred_at: datetime | None = Field(default=None, description="When the subject decided; defaults to now")


class ConsentOut(BaseModel):
    """A recorded consent decision."""

    id: uuid.UUID
    subject_ref: str
    purpose: str
    decision: str
    channel: str | None
    occurred_at: datetime
    recorded_at: datetime
