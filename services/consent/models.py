"""Tables of the consent service (its own registry: they exist only in its database)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, Index, String
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime, new_id, service_registry

registry = service_registry()


class ConsentModel(SQLModel, registry=registry):
    """Base of every table of the consent service."""


class ConsentRecord(ConsentModel, table=True):
    """One decision of one subject for one purpose; records are never updated, only appended."""

    __tablename__ = "consent_record"
    __table_args__ = (Index("ix_consent_record_subject_purpose", "tenant_id", "subject_ref", "purpose", "occurred_at"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    subject_ref: str = Field(sa_column=Column(String(128), nullable=False))
    purpose: str = Field(sa_column=Column(String(128), nullable=False))
    decision: str = Field(sa_column=Column(String(16), nullable=False))
    channel: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


metadata = registry.metadata
