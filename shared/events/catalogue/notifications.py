"""Outbound notifications: claimed, delivered and reported on by the notify service.

A service that needs a message delivered stages ``NotificationRequested`` with a claim URL; the
notify service fetches the recipient and the template's values from it (scope ``notify:claim``),
renders the template in the recipient's language, sends it, and publishes the outcome on
``privops.notifications.outcomes`` with ``origin`` naming the service that asked.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from shared.events import topics
from shared.events.catalogue import Event


class NotificationRequested(Event):
    """Sent when a message must be delivered to a person or a customer (the address stays off the bus)."""

    event_type: ClassVar[str] = "io.privops.notification.requested"
    topic: ClassVar[str] = topics.NOTIFICATIONS
    producer: ClassVar[str] = "any"
    keyed_by: ClassVar[str] = "the recipient's subject reference, or the aggregate the message is about (an incident)"

    notification_id: uuid.UUID
    channel: Literal["email", "webhook"]
    template: str = Field(description="Template key, e.g. dsar.verification_code")
    recipient_ref: str = Field(description="Subject reference or customer id; never a raw address")
    claim_url: str = Field(description="Authenticated URL returning the address and the rendered message")
    locale: str | None = Field(
        default=None,
        description="The recipient's language if the requester knows it (else the claim's or the tenant's)",
    )


class NotificationOutcome(Event):
    """Base of the outcome events of one notification (not sent on its own)."""

    topic: ClassVar[str] = topics.NOTIFICATION_OUTCOMES
    producer: ClassVar[str] = "notify"
    keyed_by: ClassVar[str] = "the notification id"

    notification_id: uuid.UUID
    origin: str = Field(description="The service that requested the notification (consumers keep their own)")
    channel: Literal["email", "webhook"]
    template: str
    attempts: int = Field(ge=0, description="Delivery attempts made so far")
    at: datetime


class NotificationSent(NotificationOutcome):
    """Sent when the SMTP relay or the webhook endpoint accepted a notification."""

    event_type: ClassVar[str] = "io.privops.notification.sent"


class NotificationDelivered(NotificationOutcome):
    """Sent when a notification reached its recipient (a mailbox accepted it, or a webhook answered 2xx)."""

    event_type: ClassVar[str] = "io.privops.notification.delivered"


class NotificationFailed(NotificationOutcome):
    """Sent when a notification was given up: a permanent refusal, a bounce, or retries exhausted."""

    event_type: ClassVar[str] = "io.privops.notification.failed"

    reason: str = Field(max_length=1000, description="Why, as the server or endpoint said it (never an address)")
