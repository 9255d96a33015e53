"""Tables of the dsar service (its own registry: they exist only in its database).

Raw identifiers and type-specific details live only here, encrypted (``*_enc`` columns), and are
purged when a request closes; everything else refers to the subject by its keyed reference.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Column, Date, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlmodel import Field, SQLModel

from shared.runtime.db import UTCDateTime, new_id, service_registry

registry = service_registry()

OPEN_STATES = ("received", "awaiting_verification", "verified", "in_progress")


def _ts(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime, nullable=nullable))


def _str(length: int, nullable: bool = True, default: Any = None) -> Any:
    return Field(default=default, sa_column=Column(String(length), nullable=nullable))


def _json(default: Any = list) -> Any:
    return Field(default_factory=default, sa_column=Column(JSONB, nullable=False))


class DsarModel(SQLModel, registry=registry):
    """Base of every table of the dsar service."""


class DsarRequest(DsarModel, table=True):
    """One rights request: who (by reference), what, under which law, and its legal clock as data."""

    __tablename__ = "dsar_request"
    __table_args__ = (
        Index("ix_dsar_request_tenant_state", "tenant_id", "state"),
        Index("ix_dsar_request_subject", "tenant_id", "subject_ref"),
        Index("ix_dsar_request_subject_refs", "subject_refs", postgresql_using="gin"),
        Index("ix_dsar_request_open_due", "due_at", postgresql_where=text("closed_at IS NULL")),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = _str(64, nullable=False)
    request_type: str = _str(32, nullable=False)
    state: str = _str(32, nullable=False)
    regime_id: str = _str(32, nullable=False)
    channel: str | None = _str(32)
    agent_name: str | None = _str(255)
    agent_evidence_ref: str | None = _str(255)
    subject_ref: str = _str(64, nullable=False)
    subject_refs: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String(64)), nullable=False))
    identifier_kinds: list[str] = _json()
    subject_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    locale: str | None = _str(16)
    details_summary: dict[str, Any] = _json(dict)
    repetition_reasons: list[str] = _json()
    received_at: datetime = _ts(nullable=False)  # when it arrived: the legal clock starts on its day
    # When and by whom it was entered into privops: later than received_at for a letter or a phone call.
    entered_at: datetime = _ts(nullable=False)
    entered_by: str | None = _str(255)
    # The public holidays its dates leave out (a shared.rules.holidays code); None: weekends only.
    calendar: str | None = _str(16)
    clock_started_on: date = Field(sa_column=Column(Date, nullable=False))
    due_at: datetime = _ts(nullable=False)
    initial_due_at: datetime = _ts(nullable=False)
    acknowledge_by: datetime | None = _ts()
    acknowledged_at: datetime | None = _ts()
    deadline_basis: str = Field(sa_column=Column(Text, nullable=False))
    extended_by_amount: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    extended_by_unit: str | None = _str(32)
    extension_reasons: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    extension_notified_at: datetime | None = _ts()
    paused_since: datetime | None = _ts()
    paused_for: str | None = _str(32)
    paused_days: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    verification_method: str | None = _str(32)
    verified_at: datetime | None = _ts()
    verified_by: str | None = _str(255)
    evidence_ref: str | None = _str(255)
    refusal_grounds: str | None = _str(64)
    refusal_reasons: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    outcome: str | None = _str(16)
    approaching_notified_at: datetime | None = _ts()
    overdue_notified_at: datetime | None = _ts()
    closed_at: datetime | None = _ts()
    purged_at: datetime | None = _ts()
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)


class IdempotencyKey(DsarModel, table=True):
    """An ``Idempotency-Key`` a client sent with a new request, and the request it created."""

    __tablename__ = "dsar_idempotency_key"

    tenant_id: str = Field(sa_column=Column(String(64), primary_key=True))
    key: str = Field(sa_column=Column(String(255), primary_key=True))
    request_id: uuid.UUID
    body_hash: str = _str(64, nullable=False)
    created_at: datetime = _ts(nullable=False)


class Verification(DsarModel, table=True):
    """Identity verification of one request: a hashed one-time code, or an operator's evidence."""

    __tablename__ = "dsar_verification"

    request_id: uuid.UUID = Field(primary_key=True)
    tenant_id: str = _str(64, nullable=False)
    status: str = _str(16, nullable=False, default="pending")
    code_hash: str | None = _str(64)
    code_expires_at: datetime | None = _ts()
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    codes_sent: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    last_sent_at: datetime | None = _ts()
    updated_at: datetime = _ts(nullable=False)


class Notification(DsarModel, table=True):
    """A message the notify service delivers: address and template values encrypted, claimed over HTTP.

    Its delivery state follows the outcomes notify reports (sent, delivered, failed with the reason).
    """

    __tablename__ = "dsar_notification"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = _str(64, nullable=False)
    request_id: uuid.UUID | None = Field(default=None, index=True)
    template: str = _str(64, nullable=False)
    channel: str = _str(16, nullable=False)
    recipient_ref: str = _str(64, nullable=False)
    locale: str | None = _str(16)
    payload_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    expires_at: datetime = _ts(nullable=False)
    claimed_at: datetime | None = _ts()
    state: str = Field(default="requested", sa_column=Column(String(16), nullable=False, server_default="requested"))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    sent_at: datetime | None = _ts()
    delivered_at: datetime | None = _ts()
    failed_at: datetime | None = _ts()
    failure_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = _ts(nullable=False)


class DataSystem(DsarModel, table=True):
    """A system holding personal data (the data map): what it holds, why, and which tasks it answers."""

    __tablename__ = "dsar_data_system"
    __table_args__ = (UniqueConstraint("tenant_id", "key", name="uq_dsar_data_system_tenant_key"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = _str(64, nullable=False)
    key: str = _str(64, nullable=False)
    name: str = _str(255, nullable=False)
    owner: str = _str(255, nullable=False)
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    data_categories: list[str] = _json()
    actions: list[str] = _json()
    credentials_scope: str = _str(64, nullable=False, default="dsar:task")
    purposes: list[str] = _json()
    recipients: list[str] = _json()
    retention: str | None = _str(255)
    source: str | None = _str(255)
    transfer_safeguards: str | None = _str(255)
    # A manual system has no API: its tasks are not published, a person carries them out and closes them.
    manual: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false")))
    instructions: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    contact: str | None = _str(255)
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default=text("true")))
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)


class SubjectRecipient(DsarModel, table=True):
    """A recipient a system disclosed a subject's data to: told of rectifications and erasures (Art. 19)."""

    __tablename__ = "dsar_subject_recipient"
    __table_args__ = (
        UniqueConstraint("tenant_id", "subject_ref", "system_key", "recipient", name="uq_dsar_subject_recipient"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = _str(64, nullable=False)
    subject_ref: str = _str(64, nullable=False)
    system_key: str = _str(64, nullable=False)
    recipient: str = _str(255, nullable=False)
    recorded_at: datetime = _ts(nullable=False)


class SubjectDisclosure(DsarModel, table=True):
    """A disclosure of a subject's data to a recipient outside the tenant (an authority on its demand), as another
    privops service reported it: what an access request tells the person (Art. 15(1)(c))."""

    __tablename__ = "dsar_subject_disclosure"
    __table_args__ = (
        UniqueConstraint("tenant_id", "disclosure_id", name="uq_dsar_subject_disclosure"),
        Index("ix_dsar_subject_disclosure_ref", "tenant_id", "subject_ref"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = _str(64, nullable=False)
    subject_ref: str = _str(128, nullable=False)
    disclosure_id: uuid.UUID = Field(sa_column=Column(PgUUID(as_uuid=True), nullable=False))
    recipient: str = _str(255, nullable=False)
    recipient_country: str = _str(3, nullable=False)
    categories: list[str] = _json()
    disclosed_at: datetime = _ts(nullable=False)
    source: str = _str(64, nullable=False)
    reference: str = _str(128, nullable=False)
    recorded_at: datetime = _ts(nullable=False)


# A task that needs a person: its store went silent (escalated) or it failed.
ATTENTION = "escalated_at IS NOT NULL OR outcome = 'failed'"


class DsarTask(DsarModel, table=True):
    """One system's part of a request: published, claimed, answered (or re-published and escalated).

    A manual system's task is not published: a person closes it by hand (``closed_by``, ``evidence``),
    as an admin may close a store's task, with a ``close_reason``.
    """

    __tablename__ = "dsar_task"
    __table_args__ = (
        UniqueConstraint("request_id", "system_key", "action", name="uq_dsar_task_request_system_action"),
        Index("ix_dsar_task_open_retry", "next_retry_at", postgresql_where=text("state = 'open'")),
        # The tasks that need a person (``GET /v1/tasks?attention=true``): few among millions.
        Index("ix_dsar_task_attention", "tenant_id", postgresql_where=text(ATTENTION)),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = _str(64, nullable=False)
    request_id: uuid.UUID = Field(index=True)
    system_key: str = _str(64, nullable=False)
    action: str = _str(32, nullable=False)
    subject_ref: str = _str(64, nullable=False)
    state: str = _str(16, nullable=False, default="open")
    outcome: str | None = _str(16)
    attempt: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    due_at: datetime = _ts(nullable=False)
    published_at: datetime = _ts(nullable=False)
    acknowledged_at: datetime | None = _ts()
    next_retry_at: datetime | None = _ts()
    escalated_at: datetime | None = _ts()
    records_affected: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    exemption: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    recipients: list[str] = _json()
    # The legal holds sent with an erase task (``TaskHold`` as JSON): re-publications and the certificate name them.
    holds: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False, server_default=text("'[]'::jsonb"))
    )
    export_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    exported_records: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    exported_at: datetime | None = _ts()
    confirmed_at: datetime | None = _ts()
    closed_at: datetime | None = _ts()
    manual: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false")))
    closed_by: str | None = _str(255)
    # The OAuth client that claimed the identifiers (the store's own credentials): named in the certificate.
    claimed_by: str | None = _str(255)
    evidence: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    close_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = _ts(nullable=False)


class LegalHold(DsarModel, table=True):
    """The retention service's legal holds as this service heard of them (placed, released): erase tasks carry them.

    A release heard of before its placement is kept as released (``placed_at`` empty until the placement arrives).
    """

    __tablename__ = "dsar_legal_hold"
    __table_args__ = (Index("ix_dsar_legal_hold_active", "tenant_id", postgresql_where=text("released_at IS NULL")),)

    id: uuid.UUID = Field(primary_key=True)
    tenant_id: str = _str(64, nullable=False)
    subject_ref: str | None = _str(128)
    category: str | None = _str(32)
    system: str | None = _str(128)
    matter: str | None = _str(128)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    placed_at: datetime | None = _ts()
    released_at: datetime | None = _ts()


class ExportPackage(DsarModel, table=True):
    """The ZIP answering an access or portability request, behind an expiring download link."""

    __tablename__ = "dsar_export_package"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = _str(64, nullable=False)
    request_id: uuid.UUID = Field(unique=True)
    token_hash: str = _str(64, nullable=False)
    content: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    size_bytes: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    created_at: datetime = _ts(nullable=False)
    expires_at: datetime = _ts(nullable=False)
    downloaded_at: datetime | None = _ts()
    purged_at: datetime | None = _ts()


class PortabilityTransfer(DsarModel, table=True):
    """A package sent to the controller a portability request names (Art. 20(2)): each attempt and the answer."""

    __tablename__ = "dsar_portability_transfer"
    __table_args__ = (Index("ix_dsar_transfer_due", "next_attempt_at", postgresql_where=text("state = 'pending'")),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = _str(64, nullable=False)
    request_id: uuid.UUID = Field(unique=True)
    package_id: uuid.UUID
    controller: str = _str(255, nullable=False)
    endpoint: str = Field(sa_column=Column(Text, nullable=False))
    # pending (being sent, or waiting to be sent again), delivered, failed, cancelled
    state: str = _str(16, nullable=False, default="pending")
    content_digest: str = _str(128, nullable=False)
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    next_attempt_at: datetime | None = _ts()
    last_attempt_at: datetime | None = _ts()
    # Each attempt: {"at", "status" (None: no answer), "error", "receipt"}; the receiver's answer, truncated.
    history: list[dict[str, Any]] = _json()
    response_status: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    receipt_id: str | None = _str(255)
    receipt: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    failure_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    delivered_at: datetime | None = _ts()
    failed_at: datetime | None = _ts()
    created_at: datetime = _ts(nullable=False)


class ErasureCertificate(DsarModel, table=True):
    """Signed proof of an erasure: every system's confirmation; kept after the personal data is gone."""

    __tablename__ = "dsar_erasure_certificate"
    __table_args__ = (Index("ix_dsar_certificate_unsigned", "issued_at", postgresql_where=text("signature IS NULL")),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = _str(64, nullable=False)
    request_id: uuid.UUID = Field(unique=True)
    document: dict[str, Any] = _json(dict)
    # A compact JWS (EdDSA) made by the identity service with the tenant's key; None until signed (a job
    # signs what could not be signed at once). Certificates from before carry an HMAC-SHA256 in hex.
    signature: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    algorithm: str = _str(32, nullable=False)
    issued_at: datetime = _ts(nullable=False)
    signed_at: datetime | None = _ts(nullable=True)


class DsarTenantSettings(DsarModel, table=True):
    """A tenant's DSAR settings: the public-holiday calendar each regime's clocks use."""

    __tablename__ = "dsar_tenant_settings"

    tenant_id: str = Field(sa_column=Column(String(64), primary_key=True))
    # {regime id: calendar code}, e.g. {"eu-gdpr": "FR", "uk-gdpr": "GB-ENG"}; a regime left out uses its default.
    calendars: dict[str, str] = _json(dict)
    updated_at: datetime = _ts(nullable=False)
    updated_by: str = _str(255, nullable=False)


# Imported here so that the registry (and Alembic's metadata) holds them with the others.
from services.dsar.models.contract_ends import ContractEnd as ContractEnd  # noqa: E402
from services.dsar.models.contract_ends import ContractEndTask as ContractEndTask  # noqa: E402

metadata = registry.metadata
