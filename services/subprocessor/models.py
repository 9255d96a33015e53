"""Tables of the subprocessor service (its own registry: they exist only in its database)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlmodel import Field, SQLModel

from shared.runtime.db import UTCDateTime, new_id, service_registry

registry = service_registry()


class SubprocessorModel(SQLModel, registry=registry):
    """Base of every table of the subprocessor service."""


def _fk(target: str, *, nullable: bool = False, ondelete: str | None = None) -> Any:
    column = Column(UUID(as_uuid=True), ForeignKey(target, ondelete=ondelete), nullable=nullable)
    return Field(default=None, sa_column=column) if nullable else Field(sa_column=column)


class Subprocessor(SubprocessorModel, table=True):
    """A company that processes personal data on the tenant's behalf, as the register shows it now."""

    __tablename__ = "subprocessor"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    name: str = Field(sa_column=Column(String(128), nullable=False))
    legal_entity: str = Field(sa_column=Column(String(255), nullable=False))
    service: str = Field(sa_column=Column(Text, nullable=False))
    purposes: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    data_categories: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    # [{"country": "US", "mechanism": "sccs"}]; mechanism is null inside the EEA.
    locations: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    dpf_certified: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    dpa_signed_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    website: str | None = Field(default=None, sa_column=Column(String(512), nullable=True))
    status: str = Field(default="proposed", sa_column=Column(String(16), nullable=False))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class SubprocessorVersion(SubprocessorModel, table=True):
    """One version of a subprocessor's entry: the register's full history, never updated."""

    __tablename__ = "subprocessor_version"
    __table_args__ = (UniqueConstraint("subprocessor_id", "version"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    subprocessor_id: uuid.UUID = _fk("subprocessor.id")
    version: int = Field(sa_column=Column(Integer, nullable=False))
    reason: str = Field(sa_column=Column(String(64), nullable=False))
    change_id: uuid.UUID | None = Field(default=None, sa_column=Column(UUID(as_uuid=True), nullable=True))
    actor: str = Field(sa_column=Column(String(255), nullable=False))
    snapshot: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class Customer(SubprocessorModel, table=True):
    """A controller whose data the tenant processes, with the notice period its contract agrees."""

    __tablename__ = "customer"
    __table_args__ = (UniqueConstraint("tenant_id", "reference"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    reference: str = Field(sa_column=Column(String(128), nullable=False))
    name: str = Field(sa_column=Column(String(255), nullable=False))
    notice_period_days: int = Field(default=15, sa_column=Column(Integer, nullable=False))
    webhook_url: str | None = Field(default=None, sa_column=Column(String(2048), nullable=True))
    # The webhook secret is derived from the signing key and this version: nothing secret is stored.
    webhook_secret_version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class CustomerContact(SubprocessorModel, table=True):
    """A person at a customer who receives notices by email; personal data (a DSAR store answers for it)."""

    __tablename__ = "customer_contact"
    __table_args__ = (Index("ix_customer_contact_subject", "tenant_id", "subject_ref"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    customer_id: uuid.UUID = _fk("customer.id", ondelete="CASCADE")
    email: str = Field(sa_column=Column(String(320), nullable=False))
    subject_ref: str = Field(sa_column=Column(String(128), nullable=False))
    role: str = Field(default="privacy", sa_column=Column(String(64), nullable=False))
    # The language the contact reads notices in (BCP 47); None: the tenant's default in the notify service.
    locale: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    restricted: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class CustomerSubprocessor(SubprocessorModel, table=True):
    """A subprocessor that processes a customer's data."""

    __tablename__ = "customer_subprocessor"
    __table_args__ = (PrimaryKeyConstraint("customer_id", "subprocessor_id"),)

    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    customer_id: uuid.UUID = _fk("customer.id", ondelete="CASCADE")
    subprocessor_id: uuid.UUID = _fk("subprocessor.id")
    since: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class SubprocessorChange(SubprocessorModel, table=True):
    """A proposed change to the subprocessor list, from proposal to effective or cancelled."""

    __tablename__ = "subprocessor_change"
    __label__ = "change"  # how a 404 names it
    __table_args__ = (
        Index("ix_subprocessor_change_open", "state", postgresql_where=text("state NOT IN ('effective', 'cancelled')")),
        Index("ix_subprocessor_change_tenant", "tenant_id", "proposed_at"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    subprocessor_id: uuid.UUID = _fk("subprocessor.id")
    replaces_id: uuid.UUID | None = _fk("subprocessor.id", nullable=True)
    # What a location or purpose change sets: {"locations": [...], "purposes": [...], "data_categories": [...]}.
    proposed: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    summary: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(sa_column=Column(String(32), nullable=False))
    effective_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    affected_customer_ids: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    proposed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    proposed_by: str = Field(sa_column=Column(String(255), nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    close_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class ChangeNotice(SubprocessorModel, table=True):
    """The written notice of one change to one customer, and the state of its delivery."""

    __tablename__ = "change_notice"
    __label__ = "notice"
    __table_args__ = (
        UniqueConstraint("change_id", "customer_id"),
        Index("ix_change_notice_pending", "next_attempt_at", postgresql_where=text("webhook_status = 'pending'")),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    change_id: uuid.UUID = _fk("subprocessor_change.id")
    customer_id: uuid.UUID = _fk("customer.id")
    notice_period_days: int = Field(sa_column=Column(Integer, nullable=False))
    content: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    delivered_via: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    objection_deadline: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    acknowledged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    webhook_status: str = Field(default="none", sa_column=Column(String(16), nullable=False))
    webhook_attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class NoticeLogEntry(SubprocessorModel, table=True):
    """One step of a notice's delivery and acknowledgement history: the written proof, append-only."""

    __tablename__ = "notice_log"
    __table_args__ = (Index("ix_notice_log_notice", "notice_id", "id"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    notice_id: uuid.UUID = _fk("change_notice.id")
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    outcome: str = Field(sa_column=Column(String(32), nullable=False))
    attempt: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    status_code: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    # For an email: the notification the sender claims, and the contact it goes to (no address here).
    notification_id: uuid.UUID | None = Field(default=None, sa_column=Column(UUID(as_uuid=True), unique=True))
    contact_id: uuid.UUID | None = Field(default=None, sa_column=Column(UUID(as_uuid=True), nullable=True))


class Objection(SubprocessorModel, table=True):
    """A customer's objection to a change, and how it was resolved."""

    __tablename__ = "objection"
    __table_args__ = (Index("ix_objection_change", "change_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    change_id: uuid.UUID = _fk("subprocessor_change.id")
    customer_id: uuid.UUID = _fk("customer.id")
    reason: str = Field(sa_column=Column(Text, nullable=False))
    raised_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    raised_via: str = Field(sa_column=Column(String(32), nullable=False))
    resolution: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    resolved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    resolution_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class AuthorityDemand(SubprocessorModel, table=True):
    """A public authority's demand for personal data the tenant processes for a customer (GDPR Art. 28(3)(a), 48)."""

    __tablename__ = "authority_demand"
    __label__ = "demand"
    __table_args__ = (Index("ix_authority_demand_tenant", "tenant_id", "received_at"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    customer_id: uuid.UUID = _fk("customer.id")
    authority_name: str = Field(sa_column=Column(String(255), nullable=False))
    authority_country: str = Field(sa_column=Column(String(3), nullable=False))
    legal_basis: str = Field(sa_column=Column(Text, nullable=False))
    legal_reference: str = Field(sa_column=Column(String(255), nullable=False))
    authority_reference: str = Field(sa_column=Column(String(255), nullable=False))
    received_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    data_categories: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    status: str = Field(default="received", sa_column=Column(String(32), nullable=False))
    recorded_by: str = Field(sa_column=Column(String(255), nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    reviewer: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    reviewed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    decision: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    reasoning: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # pending (not told yet), requested (emails asked of notify), deferred (a legal reason), no_contact.
    notification: str = Field(default="pending", sa_column=Column(String(16), nullable=False))
    notification_requested_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    customer_notified_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class DemandSubject(SubprocessorModel, table=True):
    """A person a demand is about, by keyed subject reference only (the identifier itself is not kept)."""

    __tablename__ = "authority_demand_subject"
    __table_args__ = (
        UniqueConstraint("demand_id", "subject_ref"),
        Index("ix_demand_subject_ref", "tenant_id", "subject_ref"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    demand_id: uuid.UUID = _fk("authority_demand.id", ondelete="CASCADE")
    subject_ref: str = Field(sa_column=Column(String(128), nullable=False))
    kind: str = Field(sa_column=Column(String(32), nullable=False))


class DemandDeferral(SubprocessorModel, table=True):
    """A legal reason not to tell the customer of a demand yet (a gag order), until a date."""

    __tablename__ = "authority_demand_deferral"
    __table_args__ = (
        Index("ix_demand_deferral_open", "until", postgresql_where=text("ended_at IS NULL AND reminded_at IS NULL")),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    demand_id: uuid.UUID = _fk("authority_demand.id", ondelete="CASCADE")
    reason: str = Field(sa_column=Column(Text, nullable=False))
    instrument: str = Field(sa_column=Column(String(255), nullable=False))
    until: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    recorded_by: str = Field(sa_column=Column(String(255), nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    reminded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class DemandDisclosure(SubprocessorModel, table=True):
    """What was handed to the authority about one person, when and how."""

    __tablename__ = "authority_demand_disclosure"
    __table_args__ = (Index("ix_demand_disclosure_demand", "demand_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    demand_id: uuid.UUID = _fk("authority_demand.id", ondelete="CASCADE")
    subject_ref: str = Field(sa_column=Column(String(128), nullable=False))
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    records_count: int = Field(sa_column=Column(Integer, nullable=False))
    channel: str = Field(sa_column=Column(String(64), nullable=False))
    disclosed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    recorded_by: str = Field(sa_column=Column(String(255), nullable=False))
    # When the disclosure was told to the DSAR service; held back while the customer may not be told.
    published_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class DemandLogEntry(SubprocessorModel, table=True):
    """One step of a demand's timeline (receipt, review, emails to the customer and their outcomes): append-only."""

    __tablename__ = "authority_demand_log"
    __table_args__ = (Index("ix_demand_log_demand", "demand_id", "id"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    demand_id: uuid.UUID = _fk("authority_demand.id", ondelete="CASCADE")
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    outcome: str = Field(sa_column=Column(String(32), nullable=False))
    actor: str = Field(sa_column=Column(String(255), nullable=False))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    # For an email: the notification the sender claims, and the contact it goes to (no address here).
    notification_id: uuid.UUID | None = Field(default=None, sa_column=Column(UUID(as_uuid=True), unique=True))
    contact_id: uuid.UUID | None = Field(default=None, sa_column=Column(UUID(as_uuid=True), nullable=True))


metadata = registry.metadata
