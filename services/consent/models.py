"""Tables of the consent service (its own registry: they exist only in its database).

``consent_record`` is the append-only proof; ``consent_state`` is the projection the hot-path check
reads with one primary-key lookup, written in the same transaction as each record, so every replica
reading the database sees a withdrawal as soon as it is committed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import defer
from sqlmodel import Field, SQLModel

from shared.runtime.db import UTCDateTime, new_id, service_registry

registry = service_registry()


class ConsentModel(SQLModel, registry=registry):
    """Base of every table of the consent service."""


class Purpose(ConsentModel, table=True):
    """A purpose of processing in a tenant's catalogue, with the rules the checks apply."""

    __tablename__ = "purpose"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "key"),)

    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    key: str = Field(sa_column=Column(String(128), nullable=False))
    name: str = Field(sa_column=Column(String(255), nullable=False))
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    lawful_basis: str = Field(sa_column=Column(String(32), nullable=False))
    data_categories: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    validity: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    min_age: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    gpc_covered: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    direct_marketing: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    tcf_purpose_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    current_notice_version: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    # Grants under an older notice version must be asked again (a materially changed notice).
    renewal_required_since: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    # Moved on every change of the purpose or its notices: the write path caches the rules and checks this
    # number in its own statement, so a replica never records a decision under rules it has not seen.
    revision: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class NoticeVersion(ConsentModel, table=True):
    """A published version of the notice that describes a purpose; never changed once published."""

    __tablename__ = "notice_version"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "purpose", "version"),)

    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    purpose: str = Field(sa_column=Column(String(128), nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    text_hash: str = Field(sa_column=Column(String(64), nullable=False))
    url: str | None = Field(default=None, sa_column=Column(String(1024), nullable=True))
    language: str = Field(default="en", sa_column=Column(String(35), nullable=False))
    material: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    published_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    # The text itself, served publicly with its history (None for a version published by its hash alone).
    title: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    summary: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    requires_renewal: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default="false"))


# What reads of notice versions that only check hashes leave out: the texts may be long.
WITHOUT_TEXT = (defer(NoticeVersion.text), defer(NoticeVersion.summary))  # type: ignore[arg-type]


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
    source: str = Field(default="api", sa_column=Column(String(16), nullable=False, server_default="api"))
    collector: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    notice_version: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    notice_text_hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    # form id, hashed IP, user agent, language, GPC signal: never a raw IP or identifier.
    proof: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default="{}"))
    tc_string: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    guardian: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    import_id: uuid.UUID | None = Field(default=None, nullable=True)


class ConsentState(ConsentModel, table=True):
    """The decision in force for (tenant, subject, purpose): the projection the checks read."""

    __tablename__ = "consent_state"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "subject_ref", "purpose"),
        Index("ix_consent_state_expiry", "expires_at", postgresql_where=text("decision = 'granted' AND NOT expired")),
    )

    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    subject_ref: str = Field(sa_column=Column(String(128), nullable=False))
    purpose: str = Field(sa_column=Column(String(128), nullable=False))
    decision: str = Field(sa_column=Column(String(16), nullable=False))
    decided_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    rank: int = Field(sa_column=Column(SmallInteger, nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    expired: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default="false"))
    notice_version: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    record_id: uuid.UUID = Field(nullable=False)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class SubjectStatus(ConsentModel, table=True):
    """Per-subject flags from rights requests: restriction, objection, and the suppression left by an erasure."""

    __tablename__ = "subject_status"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "subject_ref"),)

    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    subject_ref: str = Field(sa_column=Column(String(128), nullable=False))
    restricted: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    objected: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    erased_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    erased_records: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class PurposeRulesVersion(ConsentModel, table=True):
    """The rules a purpose had from ``valid_from`` until its next version: what a check as of a past instant applies.

    One row per change of the purpose or its notices (``catalogue.record_rules``); the current rules are
    the newest row, the same as the ``purpose`` row.
    """

    __tablename__ = "purpose_rules_version"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "key", "valid_from"),)

    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    key: str = Field(sa_column=Column(String(128), nullable=False))
    valid_from: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    lawful_basis: str = Field(sa_column=Column(String(32), nullable=False))
    validity: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    gpc_covered: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    direct_marketing: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    renewal_required_since: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))


class SubjectFlagChange(ConsentModel, table=True):
    """The flags of a subject from ``at`` on (restriction, objection, erasure): their history, for past checks."""

    __tablename__ = "subject_flag_change"
    __table_args__ = (Index("ix_subject_flag_change_subject", "tenant_id", "subject_ref", "at"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    subject_ref: str = Field(sa_column=Column(String(128), nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    restricted: bool = Field(sa_column=Column(Boolean, nullable=False))
    objected: bool = Field(sa_column=Column(Boolean, nullable=False))
    erased_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class ControllerProfile(ConsentModel, table=True):
    """The tenant as a PII controller: what its consent receipts name."""

    __tablename__ = "controller_profile"

    tenant_id: str = Field(sa_column=Column(String(64), primary_key=True))
    name: str = Field(sa_column=Column(String(255), nullable=False))
    contact: str = Field(sa_column=Column(String(255), nullable=False))
    address: str = Field(sa_column=Column(Text, nullable=False))
    email: str = Field(sa_column=Column(String(320), nullable=False))
    phone: str = Field(sa_column=Column(String(64), nullable=False))
    url: str | None = Field(default=None, sa_column=Column(String(1024), nullable=True))
    policy_url: str = Field(sa_column=Column(String(1024), nullable=False))
    jurisdiction: str = Field(default="EU", sa_column=Column(String(64), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class ConsentReceipt(ConsentModel, table=True):
    """The receipt of one consent record: signed on its first read, then served as the same bytes forever.

    A decision recorded with ``receipt_to`` creates the row at once (not signed yet) with the address
    sealed for the notify service's claim, purged once the mail is delivered or given up (or its claim
    window closed), and the keyed hash of the public link's key; the signature comes with the first read.
    """

    __tablename__ = "consent_receipt"
    __table_args__ = (
        UniqueConstraint("tenant_id", "record_id", name="uq_consent_receipt_record"),
        Index(
            "ix_consent_receipt_notification",
            "notification_id",
            unique=True,
            postgresql_where=text("notification_id IS NOT NULL"),
        ),
        Index(
            "ix_consent_receipt_claim_window", "claim_expires_at", postgresql_where=text("recipient_enc IS NOT NULL")
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    record_id: uuid.UUID = Field(nullable=False)
    jws: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    signed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    key_hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    notification_id: uuid.UUID | None = Field(default=None, nullable=True)
    locale: str | None = Field(default=None, sa_column=Column(String(35), nullable=True))
    # {"to": address, "key": the public link's key}, sealed; None once the mail no longer needs it.
    recipient_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    claim_expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    delivery: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    delivery_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class SubjectContact(ConsentModel, table=True):
    """The address a subject gave to be told of their consents (receipts, notice changes): sealed, one per subject.

    Written only when a decision carries ``contact_email``; erased with the subject's records.
    """

    __tablename__ = "subject_contact"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "subject_ref"),)

    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    subject_ref: str = Field(sa_column=Column(String(128), nullable=False))
    # {"email": address}, sealed with the service's data key.
    email_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    locale: str | None = Field(default=None, sa_column=Column(String(35), nullable=True))
    # The person asked for no more informational notice messages (never suppresses a required one).
    notices_opted_out_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class NoticeCampaign(ConsentModel, table=True):
    """The people told of one material notice change: when, and how many were reached."""

    __tablename__ = "notice_campaign"
    __table_args__ = (UniqueConstraint("tenant_id", "purpose", "version", name="uq_notice_campaign_version"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    purpose: str = Field(sa_column=Column(String(128), nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    requires_renewal: bool = Field(sa_column=Column(Boolean, nullable=False))
    started_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    targeted: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    requested: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    sent: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    delivered: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    failed: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    unreachable: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    opted_out: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))


class NoticeRecipient(ConsentModel, table=True):
    """One person a notice change concerned: the message asked for them (if any) and what became of it."""

    __tablename__ = "notice_recipient"
    __table_args__ = (
        PrimaryKeyConstraint("campaign_id", "subject_ref"),
        Index(
            "ix_notice_recipient_notification",
            "notification_id",
            unique=True,
            postgresql_where=text("notification_id IS NOT NULL"),
        ),
        Index("ix_notice_recipient_subject", "tenant_id", "subject_ref"),
    )

    campaign_id: uuid.UUID = Field(nullable=False)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    subject_ref: str = Field(sa_column=Column(String(128), nullable=False))
    notification_id: uuid.UUID | None = Field(default=None, nullable=True)
    locale: str | None = Field(default=None, sa_column=Column(String(35), nullable=True))
    # requested, sent, delivered, failed; unreachable (no address known), opted_out (asked for no more).
    status: str = Field(sa_column=Column(String(16), nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class ImportJob(ConsentModel, table=True):
    """A bulk import of existing consents; ``rows_done`` is the resume point, moved with each committed chunk."""

    __tablename__ = "import_job"
    __table_args__ = (Index("ix_import_job_tenant", "tenant_id", "created_at"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    format: str = Field(sa_column=Column(String(16), nullable=False))
    source_name: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    status: str = Field(default="open", sa_column=Column(String(16), nullable=False))
    rows_done: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    accepted: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    rejected: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class ImportRejection(ConsentModel, table=True):
    """One rejected row of an import: its line number and why (never the row's content, which may hold an email)."""

    __tablename__ = "import_rejection"
    __table_args__ = (PrimaryKeyConstraint("import_id", "line"),)

    import_id: uuid.UUID = Field(nullable=False)
    line: int = Field(sa_column=Column(BigInteger, nullable=False))
    field: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    error: str = Field(sa_column=Column(Text, nullable=False))


metadata = registry.metadata
