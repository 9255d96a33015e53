"""Shapes of the public notices (texts, history, banner), notice-change campaigns and their messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class PublicVersionOut(BaseModel):
    """One published version of a purpose's notice, as anyone may read it."""

    model_config = ConfigDict(from_attributes=True)

    purpose: str
    version: int
    title: str | None
    summary: str | None
    language: str
    material: bool
    requires_renewal: bool
    published_at: datetime
    expires_at: datetime | None
    text_hash: str = Field(description="SHA-256 of the text: what consent records name as the notice shown")
    url: str | None = Field(description="Where the controller also publishes it, if anywhere")
    link: str = Field(description="This version on the consent service (no token needed)")


class PublicTextOut(PublicVersionOut):
    """A version with its full text (``null`` when only its hash was published)."""

    text: str | None
    previous: str | None = Field(default=None, description="The version before, when there is one")


class PublicPurposeOut(BaseModel):
    """A purpose with a published notice, and its version in force."""

    purpose: str
    name: str
    description: str
    lawful_basis: str
    current_version: int
    current: PublicVersionOut
    history: str = Field(description="Every version, newest first")


class PublicNoticesOut(BaseModel):
    """A tenant's published notices."""

    tenant: str
    purposes: list[PublicPurposeOut]


class PublicHistoryOut(BaseModel):
    """Every published version of one purpose's notice, newest first."""

    tenant: str
    purpose: str
    name: str
    versions: list[PublicVersionOut]


class BannerItemOut(BaseModel):
    """A material change still shown in the banner."""

    purpose: str
    name: str
    version: int
    title: str | None
    summary: str | None
    published_at: datetime
    requires_renewal: bool
    link: str = Field(description="The new text")
    previous: str | None = Field(description="The text it replaces")
    until: datetime = Field(description="When the change leaves the banner")


class BannerOut(BaseModel):
    """The material notice changes of a tenant that a website should announce now, newest first."""

    tenant: str
    window_days: int
    changes: list[BannerItemOut]


class CampaignOut(BaseModel):
    """Who was told of a material notice change, and what became of the messages."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    purpose: str
    version: int
    requires_renewal: bool
    started_at: datetime
    targeted: int = Field(description="People whose grant of the purpose was in force")
    requested: int = Field(description="Messages asked of the notify service")
    sent: int = Field(description="Handed to the mail relay, not yet confirmed")
    delivered: int
    failed: int
    unreachable: int = Field(description="No known address: told by the banner only")
    opted_out: int = Field(description="Asked for no informational notice messages")


class RecipientOut(BaseModel):
    """One person a change concerned (by subject reference) and their message's status."""

    model_config = ConfigDict(from_attributes=True)

    subject_ref: str
    notification_id: uuid.UUID | None
    locale: str | None
    status: Literal["requested", "sent", "delivered", "failed", "unreachable", "opted_out"]
    reason: str | None
    updated_at: datetime


class RecipientPage(BaseModel):
    """A page of recipients by subject reference; ``next_after`` asks for the next one (None at the end)."""

    items: list[RecipientOut]
    next_after: str | None


class NoticeClaimOut(BaseModel):
    """A notice-change message, claimed by the notify service (the contract every privops service answers)."""

    notification_id: uuid.UUID
    channel: Literal["email"]
    template: str
    locale: str | None = Field(description="The language the person decided in, when known (else the tenant's)")
    to: str = Field(description="The address the person gave with a decision (contact_email)")
    to_name: str | None = None
    webhook_url: str | None = None
    context: dict[str, Any] = Field(description="The template's values; every link is absolute and needs no token")


class UnsubscribeOut(BaseModel):
    """The person's choice about informational notice messages."""

    unsubscribed: bool
    detail: str
