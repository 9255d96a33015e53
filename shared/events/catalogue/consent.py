"""Consent events: facts about one subject's decision for one purpose."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from shared.events import topics
from shared.events.catalogue import Event


class ConsentDecisionEvent(Event):
    """Common shape of the consent decision events."""

    topic: ClassVar[str] = topics.CONSENT_EVENTS
    producer: ClassVar[str] = "consent"

    consent_id: uuid.UUID = Field(description="The consent record this event is about")
    subject_ref: str = Field(description="Keyed hash of the subject's identifier; never a raw identifier")
    purpose: str = Field(description="Key of the purpose in the tenant's catalogue")
    decision: Literal["granted", "denied", "withdrawn", "expired"]
    occurred_at: datetime = Field(description="When the decision was made (or the consent expired)")
    expires_at: datetime | None = Field(default=None, description="When a granted consent lapses, if it does")
    notice_version: str | None = Field(default=None, description="Version of the notice the subject was shown")


class ConsentGranted(ConsentDecisionEvent):
    """Sent when a subject grants consent to a purpose."""

    event_type: ClassVar[str] = "io.privops.consent.granted"


class ConsentDenied(ConsentDecisionEvent):
    """Sent when a subject refuses consent to a purpose (including a Global Privacy Control opt-out)."""

    event_type: ClassVar[str] = "io.privops.consent.denied"


class ConsentWithdrawn(ConsentDecisionEvent):
    """Sent when a subject withdraws a consent given earlier."""

    event_type: ClassVar[str] = "io.privops.consent.withdrawn"


class ConsentExpired(ConsentDecisionEvent):
    """Sent when a granted consent passes its validity without renewal."""

    event_type: ClassVar[str] = "io.privops.consent.expired"


class ConsentRenewed(ConsentDecisionEvent):
    """Sent when a subject answers a renewal positively, restarting the validity period."""

    event_type: ClassVar[str] = "io.privops.consent.renewed"
