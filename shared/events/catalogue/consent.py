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


class ConsentNoticeChanged(Event):
    """Sent when a material change of a purpose's notice is published and the people it concerns are told.

    The counts are those of the campaign as it starts: ``requested`` messages went to notify, the
    ``unreachable`` people have no known address, the ``opted_out`` asked for no informational messages.
    """

    event_type: ClassVar[str] = "io.privops.consent.notice.changed"
    topic: ClassVar[str] = topics.CONSENT_EVENTS
    producer: ClassVar[str] = "consent"

    campaign_id: uuid.UUID = Field(description="The campaign recording who was told")
    purpose: str = Field(description="Key of the purpose in the tenant's catalogue")
    notice_version: int = Field(description="The notice version published")
    previous_version: int | None = Field(default=None, description="The notice version it replaces")
    requires_renewal: bool = Field(description="Grants under earlier versions must be given again")
    published_at: datetime = Field(description="When the version was published")
    targeted: int = Field(description="People whose grant of the purpose was in force")
    requested: int = Field(description="Messages asked of the notify service")
    unreachable: int = Field(description="People with no known address (told by the banner only)")
    opted_out: int = Field(default=0, description="People who asked for no informational notice messages")
