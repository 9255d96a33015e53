"""Tables of the retention service (its own registry: they exist only in its database)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, Index, Integer, PrimaryKeyConstraint, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.runtime.db import UTCDateTime, new_id, service_registry

registry = service_registry()


class RetentionModel(SQLModel, registry=registry):
    """Base of every table of the retention service."""


class PolicyVersion(RetentionModel, table=True):
    """One version of a tenant's retention policy; a change adds a version, the old one stays as evidence."""

    __tablename__ = "retention_policy"
    __table_args__ = (
        UniqueConstraint("policy_id", "version", name="uq_retention_policy_policy_id_version"),
        # One current policy per (tenant, category, system, purpose).
        Index(
            "uq_retention_policy_current", "tenant_id", "scope_key", unique=True, postgresql_where=text("is_current")
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    policy_id: uuid.UUID = Field(default_factory=new_id)
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    is_current: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    scope_key: str = Field(sa_column=Column(String(300), nullable=False))
    category: str = Field(sa_column=Column(String(32), nullable=False))
    system: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    purpose: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    period: str = Field(sa_column=Column(String(32), nullable=False))
    clock_start: str = Field(sa_column=Column(String(32), nullable=False))
    action: str = Field(sa_column=Column(String(32), nullable=False))
    archive_period: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    clock_not_before: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    grace_period: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    legal_reference: str = Field(sa_column=Column(Text, nullable=False))
    source: str = Field(default="custom", sa_column=Column(String(16), nullable=False))
    created_by: str = Field(sa_column=Column(String(255), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    superseded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class DataSystem(RetentionModel, table=True):
    """A system of the tenant's product that holds personal data (retention's own registry)."""

    __tablename__ = "data_system"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "key"),)

    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    key: str = Field(sa_column=Column(String(128), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class SystemCategory(RetentionModel, table=True):
    """A category of data one system holds: the unit a category sweep runs on, and when it runs next."""

    __tablename__ = "system_category"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "system", "category"),
        Index("ix_system_category_next_sweep", "next_sweep_at"),
    )

    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    system: str = Field(sa_column=Column(String(128), nullable=False))
    category: str = Field(sa_column=Column(String(32), nullable=False))
    next_sweep_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    last_sweep_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class LegalHoldRow(RetentionModel, table=True):
    """A legal hold: who placed it, why, what it covers; released holds stay as evidence."""

    __tablename__ = "legal_hold"
    __table_args__ = (Index("ix_legal_hold_active", "tenant_id", postgresql_where=text("released_at IS NULL")),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    subject_ref: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    category: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    system: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    matter: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    placed_by: str = Field(sa_column=Column(String(255), nullable=False))
    placed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    released_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    released_by: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    release_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class SweepRun(RetentionModel, table=True):
    """One sweep command and its answer: the evidence, kept after the data is gone."""

    __tablename__ = "sweep_run"
    __table_args__ = (
        Index("ix_sweep_run_awaiting", "next_attempt_at", postgresql_where=text("status = 'requested'")),
        Index("ix_sweep_run_tenant_system", "tenant_id", "system", "category", "requested_at"),
        Index("ix_sweep_run_batch", "batch_id"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    kind: str = Field(default="category", sa_column=Column(String(16), nullable=False))
    system: str = Field(sa_column=Column(String(128), nullable=False))
    category: str = Field(sa_column=Column(String(32), nullable=False))
    purpose: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    action: str = Field(sa_column=Column(String(16), nullable=False))
    cutoff: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    policy_id: uuid.UUID | None = Field(default=None)
    policy_version: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    batch_id: uuid.UUID | None = Field(default=None)
    subject_count: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    held_subject_refs: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    held_matters: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    hold_ids: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    status: str = Field(default="requested", sa_column=Column(String(16), nullable=False))
    requested_by: str = Field(sa_column=Column(String(255), nullable=False))
    requested_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    attempts: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    escalated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class SubjectSchedule(RetentionModel, table=True):
    """One subject's data in one category, due at ``due_at`` unless cancelled or held.

    Status: pending → requested (a sweep command is out) → done; or cancelled (erased), held (a
    legal hold stops it until release), unrouted (no registered system holds the category).
    """

    __tablename__ = "subject_schedule"
    __table_args__ = (
        Index("ix_subject_schedule_due", "due_at", postgresql_where=text("status = 'pending'")),
        Index("ix_subject_schedule_subject", "tenant_id", "subject_ref"),
        Index("ix_subject_schedule_batch", "batch_id", postgresql_where=text("batch_id IS NOT NULL")),
        # The newest first (``GET /v1/schedules``, the console's retention page): without it, the first
        # page of a tenant's million schedules sorted them all. Partial on a predicate only that listing
        # states, so the lookups by subject never take it for the subject index on a table not analysed.
        Index(
            "ix_subject_schedule_tenant_created",
            "tenant_id",
            "created_at",
            postgresql_where=text("created_at > '-infinity'"),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    subject_ref: str = Field(sa_column=Column(String(128), nullable=False))
    category: str = Field(sa_column=Column(String(128), nullable=False))
    purpose: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    action: str = Field(default="delete", sa_column=Column(String(16), nullable=False, server_default="delete"))
    reason: str = Field(sa_column=Column(String(255), nullable=False))
    policy_id: uuid.UUID | None = Field(default=None)
    policy_version: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    source_event_id: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    status: str = Field(default="pending", sa_column=Column(String(16), nullable=False))
    due_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    batch_id: uuid.UUID | None = Field(default=None)
    # When the event that started the clock happened (a withdrawal, a closure): a later grant cancels
    # the schedule, compared with this time rather than with when the schedule was written (lag).
    event_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


metadata = registry.metadata
