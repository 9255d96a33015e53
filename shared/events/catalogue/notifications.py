"""Outbound notifications: mail and webhooks are sent by a sender that fetches the address by claim check."""

from __future__ import annotations

import uuid
from typing import ClassVar, Literal

from pydantic import Field

from shared.events import topics
from shared.events.catalogue import Event


class NotificationRequested(Event):
    """Sent when a message must be delivered to a person or a customer (the address stays off the bus)."""

    event_type: ClassVar[str] = "io.privops.notification.requested"
    topic: ClassVar[str] = topics.NOTIFICATIONS
    producer: ClassVar[str] = "any"

    notification_id: uuid.UUID
    channel: Literal["email", "webhook"]
    template: str = Field(description="Template key, e.g. dsar.verification_code")
    recipient_ref: str = Field(description="Subject reference or customer id; never a raw address")
    claim_url: str = Field(description="Authenticated URL returning the address and the rendered message")
    locale: str = "en"
