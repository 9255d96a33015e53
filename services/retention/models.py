"""Tables of the retention service (its own registry: they exist only in its database)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, Index, String, text
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime, new_id, service_registry

registry = service_registry()


class RetentionModel(SQLModel, registry=registry):
    """Base of every table of the retention service."""


class SubjectSchedule(RetentionModel, table=True):
    """One subject's data in one category, due for deletion at ``due_at`` unless cancelled or held."""

    __tablename__ = "subject_schedule"
    __table_args__ = (
        Index("ix_subject_schedule_due", "due_at", postgresql_where=text("status = 'pending'")),
        Index("ix_subject_schedule_subject", "tenant_id", "subject_ref"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    subject_ref: str = Field(sa_column=Column(String(128), nullable=False))
    category: str = Field(sa_column=Column(String(128), nullable=False))
    reason: str = Field(sa_column=Column(String(255), nullable=False))
    source_event_id: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    status: str = Field(default="pending", sa_column=Column(String(16), nullable=False))
    due_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


metadata = registry.metadata
