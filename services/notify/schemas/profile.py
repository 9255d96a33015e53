"""Request and response shapes of the tenant profile."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, HttpUrl

from services.notify.schemas.common import examples

LOCALE = r"^[a-z]{2}(-[A-Z]{2})?$"
Email = Annotated[str, Field(max_length=320, pattern=r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")]


class ProfileIn(BaseModel):
    """How the tenant's messages look and where its privacy team's alerts go."""

    model_config = examples(
        {
            "sender_address": "privacy@acme.example",
            "sender_name": "Acme Privacy",
            "reply_to": "dpo@acme.example",
            "brand_name": "Acme",
            "brand_colour": "#0f766e",
            "default_locale": "fr",
            "alert_emails": ["dpo@acme.example"],
            "alert_webhook_url": "https://hooks.acme.example/privops",
        }
    )

    sender_address: Email | None = Field(default=None, description="From address (else the platform's)")
    sender_name: str | None = Field(default=None, max_length=255)
    reply_to: Email | None = None
    brand_name: str | None = Field(default=None, max_length=255, description="Shown at the top of HTML mail")
    brand_colour: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")
    default_locale: str = Field(default="en", pattern=LOCALE, description="When neither the claim nor the event says")
    alert_emails: list[Email] = Field(default_factory=list, max_length=20, description="The privacy team's inboxes")
    alert_webhook_url: HttpUrl | None = Field(default=None, description="Signed alerts (Standard Webhooks) go here too")


class ProfileOut(BaseModel):
    """The tenant's profile (secrets are never shown again after they are made)."""

    sender_address: str | None
    sender_name: str | None
    reply_to: str | None
    brand_name: str | None
    brand_colour: str | None
    default_locale: str
    alert_emails: list[str]
    alert_webhook_url: str | None
    webhook_secrets_active: int = Field(description="How many secrets sign each webhook (two during a rotation)")
    updated_at: datetime
    webhook_secret: str | None = Field(default=None, description="A secret just made: shown this once only")
