"""Request and response shapes of messages and their delivery log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.notify.schemas.common import examples


class AttemptOut(BaseModel):
    """One try at delivering a message."""

    number: int
    at: datetime
    outcome: str = Field(description="sent, transient (retried) or permanent (failed)")
    smtp_code: int | None
    http_status: int | None
    detail: str
    duration_ms: int


class MessageOut(BaseModel):
    """A message and where its delivery stands (no address, no content)."""

    id: uuid.UUID
    origin: str
    kind: str
    channel: str
    template: str
    locale: str | None
    recipient_ref: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    queued_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None
    last_error: str | None


class MessageDetailOut(MessageOut):
    """A message with every delivery attempt and, for an alert, the values of its template."""

    context: dict[str, Any]
    history: list[AttemptOut]


class MessagePage(BaseModel):
    """One page of messages, newest first."""

    items: list[MessageOut]
    limit: int
    offset: int
    next_offset: int | None = Field(description="Where the next page starts; null on the last page")


class RetryIn(BaseModel):
    """Why a failed message is queued again."""

    model_config = examples({"reason": "The relay's credentials were fixed."})

    reason: str = Field(min_length=1, max_length=1000)


class BounceIn(BaseModel):
    """A bounce report from the relay or the mail provider."""

    model_config = examples({"reason": "550 5.1.1 mailbox unavailable", "smtp_code": 550})

    reason: str = Field(min_length=1, max_length=1000, description="As the provider reported it")
    smtp_code: int | None = Field(default=None, ge=200, le=599)
