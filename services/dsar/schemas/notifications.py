"""Shapes of the messages to data subjects: the claim the notify service reads, and their delivery as shown."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.dsar.domain import DeliveryState

# A BCP 47 language tag as subjects' browsers send it: "fr", "fr-CA", "pt-BR".
LOCALE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$"


class NotificationClaimOut(BaseModel):
    """The content of a message, claimed by the notify service (the contract every privops service answers)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "notification_id": "0193a0c4-7d0e-7c4e-9b1a-3f5d2e8c1a20",
                    "channel": "email",
                    "template": "dsar.verification_code",
                    "locale": "fr",
                    "to": "ada@example.com",
                    "to_name": None,
                    "webhook_url": None,
                    "context": {
                        "request_id": "0193a0c4-6b1f-7a55-8f0e-9d2c4b6a7e11",
                        "request_type": "access",
                        "code": "042917",
                        "expires_at": "2026-03-02T09:30:00Z",
                    },
                }
            ]
        }
    )

    notification_id: uuid.UUID
    channel: Literal["email", "webhook"]
    template: str
    locale: str | None = Field(description="The subject's language when the request gave one; else notify chooses")
    to: str | None = Field(description="The subject's email address (channel email)")
    to_name: str | None = None
    webhook_url: str | None = None
    context: dict[str, Any] = Field(description="The template's values; links are absolute URLs")


class MessageOut(BaseModel):
    """A message sent about a request, and what became of it (never its address or content)."""

    id: uuid.UUID
    template: str
    channel: str
    locale: str | None
    state: DeliveryState
    attempts: int
    requested_at: datetime
    claimed_at: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None
    failure_reason: str | None
    expires_at: datetime
