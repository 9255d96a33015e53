"""Tables of the notify service (its own registry: they exist only in its database).

A message row never holds an address: requested messages keep the claim URL and the recipient's
reference, alerts the reference of a privacy-team address (or ``webhook``) that delivery matches
against the tenant's profile at send time.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlmodel import Field, SQLModel

from shared.runtime.db import UTCDateTime, new_id, service_registry

registry = service_registry()


class NotifyModel(SQLModel, registry=registry):
    """Base of every table of the notify service."""


class TenantProfile(NotifyModel, table=True):
    """How a tenant's messages look and where its privacy team's alerts go."""

    __tablename__ = "tenant_profile"
    __label__ = "profile"

    tenant_id: str = Field(sa_column=Column(String(64), primary_key=True))
    sender_address: str | None = Field(default=None, sa_column=Column(String(320), nullable=True))
    sender_name: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    reply_to: str | None = Field(default=None, sa_column=Column(String(320), nullable=True))
    brand_name: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    brand_colour: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    default_locale: str = Field(default="en", sa_column=Column(String(35), nullable=False))
    alert_emails: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    alert_webhook_url: str | None = Field(default=None, sa_column=Column(String(2048), nullable=True))
    # Newest first; two during a rotation, so receivers holding the old secret keep verifying.
    webhook_secrets: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class TemplateOverride(NotifyModel, table=True):
    """A tenant's own version of one template file (``<locale>/<key>.txt`` or ``.html``)."""

    __tablename__ = "template_override"
    __label__ = "template override"
    __table_args__ = (UniqueConstraint("tenant_id", "locale", "file"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    locale: str = Field(sa_column=Column(String(35), nullable=False))
    file: str = Field(sa_column=Column(String(160), nullable=False))
    source: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class Message(NotifyModel, table=True):
    """One message to one recipient and where its delivery stands (id = the notification id)."""

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("tenant_id", "dedupe_key"),
        Index("ix_message_due", "next_attempt_at", postgresql_where=text("state IN ('queued', 'retrying')")),
        Index("ix_message_settling", "sent_at", postgresql_where=text("state = 'sent'")),
        Index("ix_message_tenant", "tenant_id", "queued_at"),
        Index("ix_message_recipient", "tenant_id", "recipient_ref"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    origin: str = Field(sa_column=Column(String(32), nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    channel: str = Field(sa_column=Column(String(16), nullable=False))
    template: str = Field(sa_column=Column(String(128), nullable=False))
    locale: str | None = Field(default=None, sa_column=Column(String(35), nullable=True))
    recipient_ref: str = Field(sa_column=Column(String(128), nullable=False))
    claim_url: str | None = Field(default=None, sa_column=Column(String(2048), nullable=True))
    state: str = Field(default="queued", sa_column=Column(String(16), nullable=False))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    queued_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    failed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Alerts only: one message per (event threshold, target), and the values of its template.
    dedupe_key: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))


class DeliveryAttempt(NotifyModel, table=True):
    """One try at delivering a message, as the relay or the endpoint answered it (append-only)."""

    __tablename__ = "delivery_attempt"
    __table_args__ = (Index("ix_delivery_attempt_message", "message_id", "id"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    message_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("message.id", ondelete="CASCADE"), nullable=False)
    )
    number: int = Field(sa_column=Column(Integer, nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    outcome: str = Field(sa_column=Column(String(16), nullable=False))
    smtp_code: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    http_status: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))
    duration_ms: int = Field(default=0, sa_column=Column(Integer, nullable=False))


metadata = registry.metadata
