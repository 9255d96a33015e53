"""Tables of the breach service (its own registry: they exist only in its database)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.runtime.db import UTCDateTime, new_id, service_registry

registry = service_registry()


class BreachModel(SQLModel, registry=registry):
    """Base of every table of the breach service."""


def _json(nullable: bool = False) -> Any:
    return Field(default_factory=list, sa_column=Column(JSONB, nullable=nullable))


class Incident(BreachModel, table=True):
    """One personal-data breach in a tenant's register (GDPR Art. 33(5)), notified or not."""

    __tablename__ = "incident"
    __table_args__ = (
        Index("ix_incident_tenant_status", "tenant_id", "status"),
        Index("ix_incident_subprocessor_request", "subprocessor_request_id"),
        Index("ix_incident_tenant_next_clock", "tenant_id", "next_clock_at"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    reference: str = Field(sa_column=Column(String(32), nullable=False))
    title: str = Field(sa_column=Column(String(200), nullable=False))
    description: str = Field(sa_column=Column(Text, nullable=False))
    detected_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    aware_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    determined_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    reporter: str = Field(sa_column=Column(String(200), nullable=False))
    nature: list[str] = _json()
    systems: list[str] = _json()
    data_categories: list[str] = _json()
    data_subject_categories: list[str] = _json()
    approximate_subjects: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    approximate_records: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    jurisdictions: list[str] = _json()
    sectors: list[str] = _json()
    role: str = Field(sa_column=Column(String(16), nullable=False))
    customers: list[str] = _json()
    subprocessor_id: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    subprocessor_request_id: uuid.UUID | None = Field(default=None, nullable=True)
    containment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    measures_taken: list[str] = _json()
    measures_proposed: list[str] = _json()
    likely_consequences: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    plain_summary: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    advice: list[str] = _json()
    status: str = Field(default="open", sa_column=Column(String(16), nullable=False))
    risk: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    notify_authority: bool | None = Field(default=None, sa_column=Column(Boolean, nullable=True))
    notify_individuals: bool | None = Field(default=None, sa_column=Column(Boolean, nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    # When the soonest open clock falls due (its target when it has no hard limit), None when none runs:
    # kept with the clocks, so the register lists the most urgent first from an index, however long it is.
    next_clock_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class IncidentSequence(BreachModel, table=True):
    """The last reference number given in a tenant's register for a year of awareness (``BR-<year>-<n>``).

    Taken with one upsert that locks the row until the report commits: concurrent reports get
    consecutive numbers, and a report that fails gives its number back (no gaps in the register).
    """

    __tablename__ = "incident_sequence"

    tenant_id: str = Field(sa_column=Column(String(64), primary_key=True))
    year: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    last: int = Field(sa_column=Column(Integer, nullable=False))


class TimelineEntry(BreachModel, table=True):
    """One change to an incident, in order: what changed, when and by whom."""

    __tablename__ = "incident_timeline"
    __table_args__ = (Index("ix_incident_timeline_incident", "incident_id", "seq"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), nullable=False))
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    incident_id: uuid.UUID = Field(sa_column=Column(ForeignKey("incident.id"), nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    actor: str = Field(sa_column=Column(String(255), nullable=False))
    kind: str = Field(sa_column=Column(String(64), nullable=False))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))


class AffectedSubject(BreachModel, table=True):
    """A person affected by a breach, by keyed subject reference only."""

    __tablename__ = "affected_subject"
    __table_args__ = (
        UniqueConstraint("incident_id", "subject_ref", name="incident_subject"),
        Index("ix_affected_subject_ref", "tenant_id", "subject_ref"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    incident_id: uuid.UUID = Field(sa_column=Column(ForeignKey("incident.id"), nullable=False))
    subject_ref: str = Field(sa_column=Column(String(128), nullable=False))
    added_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class AffectedContact(BreachModel, table=True):
    """How to reach one person affected, kept sealed only to tell them of this breach (GDPR Art. 34).

    The address is purged (``contact_enc`` set to NULL) once every delivery of the notice to
    individuals reached an end, or when the incident closes; a DSAR erasure deletes the row.
    """

    __tablename__ = "affected_contact"
    __table_args__ = (
        UniqueConstraint("incident_id", "subject_ref", name="incident_contact"),
        Index("ix_affected_contact_ref", "tenant_id", "subject_ref"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    incident_id: uuid.UUID = Field(sa_column=Column(ForeignKey("incident.id"), nullable=False))
    subject_ref: str = Field(sa_column=Column(String(128), nullable=False))
    # AES-GCM of {"email", "name", "locale"}, bound to the tenant, the incident and the reference.
    contact_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    added_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    purged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class Assessment(BreachModel, table=True):
    """A severity assessment (ENISA, with inputs) or a human override, and the notification decision."""

    __tablename__ = "assessment"
    __table_args__ = (Index("ix_assessment_incident", "incident_id", "seq"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), nullable=False))
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    incident_id: uuid.UUID = Field(sa_column=Column(ForeignKey("incident.id"), nullable=False))
    basis: str = Field(sa_column=Column(String(16), nullable=False))
    inputs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    dpc: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    ei: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    cb: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    score: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    severity_level: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    risk: str = Field(sa_column=Column(String(16), nullable=False))
    notify_authority: bool = Field(sa_column=Column(Boolean, nullable=False))
    notify_individuals: bool = Field(sa_column=Column(Boolean, nullable=False))
    public_communication: bool = Field(sa_column=Column(Boolean, nullable=False))
    rationale: str = Field(sa_column=Column(Text, nullable=False))
    assessor_rationale: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    override_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    decided_by: str = Field(sa_column=Column(String(255), nullable=False))
    decided_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class Deadline(BreachModel, table=True):
    """A legal clock of an incident, computed from its awareness time: the deadline table."""

    __tablename__ = "deadline"
    __table_args__ = (UniqueConstraint("incident_id", "jurisdiction", "audience", name="incident_clock"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    incident_id: uuid.UUID = Field(sa_column=Column(ForeignKey("incident.id"), nullable=False))
    jurisdiction: str = Field(sa_column=Column(String(32), nullable=False))
    audience: str = Field(sa_column=Column(String(32), nullable=False))
    recipient: str = Field(sa_column=Column(String(200), nullable=False))
    starts_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    target_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    rule: str = Field(sa_column=Column(Text, nullable=False))
    citation: str = Field(sa_column=Column(Text, nullable=False))
    verify: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    provisional: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    condition: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    status: str = Field(default="open", sa_column=Column(String(16), nullable=False))  # open, met, not_applicable
    met_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    met_by_notice_id: uuid.UUID | None = Field(default=None, nullable=True)


class DeadlineAlert(BreachModel, table=True):
    """An escalation point or the overdue moment of a deadline; fired exactly once by the deadline job."""

    __tablename__ = "deadline_alert"
    __table_args__ = (
        UniqueConstraint("deadline_id", "kind", "offset_s", name="deadline_point"),
        Index("ix_deadline_alert_pending", "fire_at", postgresql_where=text("fired_at IS NULL")),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    deadline_id: uuid.UUID = Field(sa_column=Column(ForeignKey("deadline.id"), nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))  # escalation, overdue
    offset_s: int = Field(sa_column=Column(Integer, nullable=False))  # seconds before the target; 0 for overdue
    fire_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    fired_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class Notice(BreachModel, table=True):
    """A notice to the authority, a customer or the people affected; frozen once sent."""

    __tablename__ = "notice"
    __table_args__ = (
        Index("ix_notice_incident", "incident_id", "created_at"),
        Index("ix_notice_tenant_status", "tenant_id", "status", "created_at"),  # drafts across the register
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    incident_id: uuid.UUID = Field(sa_column=Column(ForeignKey("incident.id"), nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    stage: str = Field(sa_column=Column(String(16), nullable=False))
    jurisdiction: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    customer_id: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    recipient: str = Field(sa_column=Column(String(200), nullable=False))
    # The Art. 33(3)(b) contact point as the tenant's settings named it when drafted: a sent notice is frozen.
    contact: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    sections: list[dict[str, Any]] = _json()
    body: str = Field(sa_column=Column(Text, nullable=False))
    # A notice to individuals in each language it is written in ({"en": …, "fr": …}); body is the default one.
    bodies: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    )
    # A processor's notice to individuals: pending, approved or declined by the customer; NULL when not needed.
    approval_status: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    # Art. 34(3)(c): {"channel", "url", "published_at", "text", "reason", "recorded_by", "recorded_at"}.
    public_communication: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    to_follow: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    delay_reasons: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    previous_notice_id: uuid.UUID | None = Field(default=None, nullable=True)
    status: str = Field(default="draft", sa_column=Column(String(16), nullable=False))  # draft, sent
    late: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    created_by: str = Field(sa_column=Column(String(255), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    sent_by: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class Delivery(BreachModel, table=True):
    """One hand-over of a sent notice to one recipient, with its delivery status."""

    __tablename__ = "notice_delivery"
    __table_args__ = (Index("ix_notice_delivery_notice", "notice_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    notice_id: uuid.UUID = Field(sa_column=Column(ForeignKey("notice.id"), nullable=False))
    recipient_ref: str = Field(sa_column=Column(String(128), nullable=False))
    channel: str = Field(sa_column=Column(String(16), nullable=False))  # email, webhook, portal
    # requested, sent, delivered, failed (from the notify service's outcomes), submitted (a person, on a portal)
    status: str = Field(default="requested", sa_column=Column(String(16), nullable=False))
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    requested_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    failed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class NoticeApproval(BreachModel, table=True):
    """The controller customer's approval of a processor's notice to individuals: who, when, how, and the answer."""

    __tablename__ = "notice_approval"
    __table_args__ = (Index("ix_notice_approval_notice", "notice_id", "requested_at"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    notice_id: uuid.UUID = Field(sa_column=Column(ForeignKey("notice.id"), nullable=False))
    customer_id: str = Field(sa_column=Column(String(128), nullable=False))
    method: str = Field(sa_column=Column(String(16), nullable=False))  # link, recorded
    status: str = Field(default="pending", sa_column=Column(String(16), nullable=False))  # pending, approved, declined
    requested_by: str = Field(sa_column=Column(String(255), nullable=False))
    requested_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    # The approval link's mail, as the notify service reports it: requested, sent, delivered, failed.
    mail_status: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    mail_detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    decided_by_name: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    decided_by_email: str | None = Field(default=None, sa_column=Column(String(320), nullable=True))
    customer_reference: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    means: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # how a recorded answer came
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # why it was declined
    recorded_by: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))


class TenantSettings(BreachModel, table=True):
    """Whom a tenant's notices name and go to: the contact point, the authorities, the customers, the locale."""

    __tablename__ = "tenant_settings"

    tenant_id: str = Field(sa_column=Column(String(64), primary_key=True))
    # {"name", "email", "phone", "role"}: the DPO or other contact point of GDPR Art. 33(3)(b).
    contact: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    # {jurisdiction: {"name", "email", "portal_url", "locale"}}
    authorities: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    # {customer id: {"name", "email", "locale"}}: whom a processor tells, per controller customer.
    customers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    default_locale: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_by: str = Field(sa_column=Column(String(255), nullable=False))


metadata = registry.metadata
