"""Request and response shapes of the DSAR API, with examples for /docs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.dsar.domain import DeadlineStatus, RequestType
from services.dsar.domain.tasks import TaskAction

KEY_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


class IdentifierIn(BaseModel):
    """One identifier of the subject; stored encrypted in the DSAR database only, never on the bus."""

    kind: str = Field(description="email, user_id, phone, customer_id, cookie_id or device_id", max_length=32)
    value: str = Field(min_length=1, max_length=320)


class AgentIn(BaseModel):
    """An authorised agent filing on the subject's behalf (CCPA § 1798.185(a)(7), GDPR Art. 80)."""

    name: str = Field(min_length=1, max_length=255)
    evidence_ref: str | None = Field(default=None, max_length=255, description="Reference of the signed permission")


class CorrectionIn(BaseModel):
    """A field to correct (rectification) and its new value."""

    field: str = Field(min_length=1, max_length=128)
    new_value: str = Field(min_length=1, max_length=2000)


class DetailsIn(BaseModel):
    """Type-specific details: corrections (rectification), purposes (objection), target (portability)."""

    model_config = ConfigDict(extra="forbid")

    corrections: list[CorrectionIn] = Field(default_factory=list, max_length=100)
    purposes: list[str] = Field(default_factory=list, max_length=100)
    target_controller: str | None = Field(default=None, max_length=255)


class RequestIn(BaseModel):
    """A rights request to open."""

    model_config = _examples(
        {
            "type": "erasure",
            "jurisdiction": "eu-gdpr",
            "identifiers": [{"kind": "email", "value": "ada@example.com"}, {"kind": "user_id", "value": "u-1001"}],
            "channel": "web",
        },
        {
            "type": "rectification",
            "jurisdiction": "uk-gdpr",
            "identifiers": [{"kind": "email", "value": "ada@example.com"}],
            "details": {"corrections": [{"field": "name", "new_value": "Ada King"}]},
        },
    )

    type: RequestType
    jurisdiction: str = Field(max_length=32, description="Regime id: eu-gdpr, uk-gdpr, us-ca-ccpa, br-lgpd, …")
    identifiers: list[IdentifierIn] = Field(max_length=20)
    channel: str | None = Field(default="web", max_length=32)
    authorised_agent: AgentIn | None = None
    details: DetailsIn = Field(default_factory=DetailsIn)
    verification: Literal["email_code", "manual"] = Field(
        default="email_code", description="email_code sends a one-time code to the email identifier"
    )


class DeadlineOut(BaseModel):
    """The legal clock, as stored."""

    due_at: datetime
    initial_due_at: datetime
    acknowledge_by: datetime | None
    basis: str
    extended_by: str | None
    extension_reasons: str | None
    paused: bool
    paused_since: datetime | None
    status: DeadlineStatus


class VerificationOut(BaseModel):
    """Where identity verification stands."""

    method: str | None
    status: str
    attempts_left: int | None
    code_expires_at: datetime | None
    verified_at: datetime | None
    evidence_ref: str | None


class RefusalOut(BaseModel):
    """Why a request was refused and where the subject may complain."""

    grounds: str
    reasons: str | None
    complaint: dict[str, str]


class RequestOut(BaseModel):
    """A rights request as the privacy team sees it (identifiers are never returned)."""

    id: uuid.UUID
    type: str
    state: str
    jurisdiction: str
    channel: str | None
    subject_ref: str
    identifier_kinds: list[str]
    authorised_agent: str | None
    details: dict[str, Any]
    received_at: datetime
    deadline: DeadlineOut
    repetition: dict[str, Any]
    verification: VerificationOut
    refusal: RefusalOut | None
    outcome: str | None
    closed_at: datetime | None
    certificate_id: uuid.UUID | None
    package_id: uuid.UUID | None
    identifiers_purged: bool


class CodeIn(BaseModel):
    """The one-time code the subject received."""

    model_config = _examples({"code": "042917"})
    code: str = Field(min_length=4, max_length=12)


class ManualVerificationIn(BaseModel):
    """An operator's confirmation of identity, with the reference of the evidence seen."""

    model_config = _examples({"evidence_ref": "ID-DOC-2026-0042", "note": "passport checked by video call"})
    evidence_ref: str = Field(min_length=1, max_length=255)
    note: str | None = Field(default=None, max_length=2000)


class ExtensionIn(BaseModel):
    """The one extension: reasons go to the subject (now, unless ``reasons_sent_at`` says when they went)."""

    model_config = _examples({"reasons": "The request covers twelve years of records in five systems."})
    reasons: str = Field(min_length=10, max_length=4000)
    reasons_sent_at: datetime | None = None


class RefusalIn(BaseModel):
    """A refusal with its grounds and reasons (the subject is told of the right to complain)."""

    model_config = _examples({"grounds": "manifestly_excessive", "reasons": "Third identical request this month."})
    grounds: Literal["manifestly_unfounded", "manifestly_excessive", "identity_not_established", "exemption"]
    reasons: str = Field(min_length=5, max_length=4000)


class CancelIn(BaseModel):
    """Why the request is withdrawn."""

    reason: str | None = Field(default=None, max_length=2000)


class TaskOut(BaseModel):
    """One system's part of a request."""

    id: uuid.UUID
    request_id: uuid.UUID
    system: str
    action: str
    state: str
    outcome: str | None
    attempt: int
    due_at: datetime
    published_at: datetime
    acknowledged_at: datetime | None
    escalated_at: datetime | None
    records_affected: int
    exemption: str | None
    detail: str | None
    error: str | None
    recipients: list[str]
    exported_records: int | None
    closed_at: datetime | None


class ClaimOut(BaseModel):
    """What a store needs to act: the subject's identifiers and the request's details (claim check)."""

    task_id: uuid.UUID
    request_id: uuid.UUID
    action: str
    system: str
    request_type: str
    jurisdiction: str
    subject_ref: str
    identifiers: list[dict[str, str]]
    details: dict[str, Any]
    recipients: list[str] = Field(description="Recipients to tell of a rectification or erasure (Art. 19)")
    due_at: datetime
    attempt: int


class ExportIn(BaseModel):
    """A store's export for an access or portability task."""

    model_config = _examples({"system": "crm", "format": "json", "records": [{"table": "contacts", "name": "Ada"}]})
    system: str = Field(pattern=KEY_PATTERN)
    format: Literal["json"] = "json"
    records: list[dict[str, Any]] = Field(max_length=100_000)


class SystemIn(BaseModel):
    """A data system to register (the data map)."""

    model_config = _examples(
        {
            "name": "CRM",
            "owner": "sales-ops@example.com",
            "data_categories": ["contact", "orders"],
            "actions": ["access", "erase", "rectify", "restrict", "lift_restriction", "object", "portability"],
            "purposes": ["customer relationship"],
            "recipients": ["mailing provider"],
            "retention": "3 years after last contact",
        }
    )

    name: str = Field(min_length=1, max_length=255)
    owner: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=4000)
    data_categories: list[str] = Field(default_factory=list, max_length=100)
    actions: list[TaskAction] = Field(min_length=1)
    credentials_scope: str = Field(default="dsar:task", max_length=64)
    purposes: list[str] = Field(default_factory=list, max_length=100)
    recipients: list[str] = Field(default_factory=list, max_length=100)
    retention: str | None = Field(default=None, max_length=255)
    source: str | None = Field(default=None, max_length=255)
    transfer_safeguards: str | None = Field(default=None, max_length=255)


class SystemOut(SystemIn):
    """A registered data system."""

    model_config = ConfigDict(extra="ignore")

    key: str
    active: bool
    created_at: datetime
    updated_at: datetime


class RecipientIn(BaseModel):
    """A disclosure to record: ``system`` passed the subject's data to ``recipient`` (told under Art. 19)."""

    model_config = _examples(
        {"subject": {"kind": "email", "value": "ada@example.com"}, "system": "crm", "recipient": "Acme Mailing Ltd"}
    )
    subject: IdentifierIn
    system: str = Field(pattern=KEY_PATTERN)
    recipient: str = Field(min_length=1, max_length=255)


class LinkOut(BaseModel):
    """A download link and when it stops working."""

    url: str
    expires_at: datetime


class CertificateOut(BaseModel):
    """A signed certificate of erasure."""

    id: uuid.UUID
    request_id: uuid.UUID
    issued_at: datetime
    algorithm: str
    signature: str
    certificate: dict[str, Any]

    @classmethod
    def of(cls, cert: Any) -> CertificateOut:
        """The API shape of a stored certificate."""
        return cls(
            id=cert.id,
            request_id=cert.request_id,
            issued_at=cert.issued_at,
            algorithm=cert.algorithm,
            signature=cert.signature,
            certificate=cert.document,
        )


class VerifyCertificateIn(BaseModel):
    """A certificate document and its signature, as issued."""

    certificate: dict[str, Any]
    signature: str = Field(min_length=1, max_length=256)


class VerifyCertificateOut(BaseModel):
    """Whether the certificate is authentic and unchanged."""

    valid: bool
    certificate_id: str | None
    issued_at: str | None
