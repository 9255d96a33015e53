"""Shapes of consent decisions, withdrawals, checks and histories."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.consent.domain import CheckReason, GuardianVerificationMethod, IdentifierKind, normalise_email
from services.consent.schemas.purposes import PURPOSE_KEY

SUBJECT_REF = r"^[0-9a-f]{64}$"
PurposeKey = Field(min_length=1, max_length=128, pattern=PURPOSE_KEY)


class SubjectIdentifier(BaseModel):
    """One identifier of the data subject; it is normalised and stored only as a keyed hash."""

    kind: IdentifierKind
    value: str = Field(min_length=1, max_length=320)


class SubjectSelector(BaseModel):
    """Names the subject by one identifier, or by the subject reference a previous answer returned."""

    subject: SubjectIdentifier | None = None
    subject_ref: str | None = Field(default=None, pattern=SUBJECT_REF)

    @model_validator(mode="after")
    def _one_subject(self) -> Self:
        if (self.subject is None) == (self.subject_ref is None):
            raise ValueError("give exactly one of subject or subject_ref")
        return self


class ProofIn(BaseModel):
    """How the decision was collected; the IP address is kept only as a keyed hash."""

    model_config = ConfigDict(extra="forbid")

    form_id: str | None = Field(default=None, max_length=255)
    ip: str | None = Field(default=None, max_length=64, description="Hashed before storage, never kept")
    user_agent: str | None = Field(default=None, max_length=1024)
    language: str | None = Field(default=None, max_length=35)


class GuardianIn(BaseModel):
    """The consent of the holder of parental responsibility, for a child (GDPR Art. 8)."""

    model_config = ConfigDict(extra="forbid")

    consent: bool
    verification_method: GuardianVerificationMethod | None = None


class ConsentIn(SubjectSelector):
    """A consent decision to record."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subject": {"kind": "email", "value": "ada@example.com"},
                    "purpose": "newsletter",
                    "decision": "granted",
                    "channel": "web",
                    "collector": "signup-form",
                    "notice_version": 2,
                    "proof": {
                        "form_id": "signup-v3",
                        "ip": "203.0.113.7",
                        "user_agent": "Mozilla/5.0",
                        "language": "en",
                    },
                }
            ]
        },
    )

    purpose: str = PurposeKey
    decision: Literal["granted", "denied", "withdrawn"]
    channel: str | None = Field(default=None, max_length=64)
    collector: str | None = Field(default=None, max_length=255, description="Who or what collected it")
    occurred_at: datetime | None = Field(default=None, description="When the subject decided; defaults to now")
    notice_version: int | None = Field(default=None, ge=1, description="Defaults to the version in force")
    notice_text_hash: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    proof: ProofIn = Field(default_factory=ProofIn)
    tc_string: str | None = Field(default=None, max_length=16_384, description="IAB TCF v2 string, kept verbatim")
    country: str | None = Field(default=None, min_length=2, max_length=2, description="ISO 3166-1 alpha-2")
    age: int | None = Field(default=None, ge=0, le=150)
    birth_date: date | None = Field(default=None, description="Used to apply GDPR Art. 8, never stored")
    guardian: GuardianIn | None = None
    receipt_to: str | None = Field(
        default=None,
        max_length=320,
        description="Email address the signed receipt is sent to (through the notify service); kept encrypted "
        "only until the mail is delivered or given up. Needs the tenant's controller profile (409 otherwise)",
    )
    contact_email: str | None = Field(
        default=None,
        max_length=320,
        description="Email address the person may be told at of changes to the notices they agreed to (and "
        "receipts); kept encrypted, one per subject, with the language of proof.language, erased with their records",
    )

    @field_validator("receipt_to", "contact_email")
    @classmethod
    def _an_email_address(cls, value: str | None) -> str | None:
        return None if value is None else normalise_email(value)


class ConsentOut(BaseModel):
    """A recorded consent decision."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    subject_ref: str
    purpose: str
    decision: str
    channel: str | None
    collector: str | None = None
    source: str = "api"
    occurred_at: datetime
    recorded_at: datetime
    expires_at: datetime | None = None
    notice_version: int | None = None
    notice_text_hash: str | None = None
    proof: dict[str, Any] = Field(default_factory=dict)
    tc_string: str | None = None
    guardian: dict[str, Any] | None = None
    gpc_opt_outs: list[str] = Field(default_factory=list, description="Purposes a Sec-GPC: 1 header opted out of")
    receipt_id: uuid.UUID | None = Field(default=None, description="The receipt mailed to receipt_to, when asked for")


class WithdrawIn(SubjectSelector):
    """Withdraw consent to some purposes, or to every purpose granted so far (``purposes`` omitted)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"subject": {"kind": "email", "value": "ada@example.com"}, "channel": "web"}]},
    )

    purposes: list[str] | None = Field(default=None, min_length=1, max_length=200)
    channel: str | None = Field(default=None, max_length=64)
    collector: str | None = Field(default=None, max_length=255)
    proof: ProofIn = Field(default_factory=ProofIn)


class WithdrawOut(BaseModel):
    """The withdrawals recorded."""

    subject_ref: str
    withdrawn: list[ConsentOut]


class GpcIn(SubjectSelector):
    """A page view or request that may carry a Global Privacy Control signal (the ``Sec-GPC`` header)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"subject": {"kind": "cookie_id", "value": "c-8f2e"}, "channel": "web"}]},
    )

    channel: str | None = Field(default=None, max_length=64)
    collector: str | None = Field(default=None, max_length=255)
    proof: ProofIn = Field(default_factory=ProofIn)


class GpcOut(BaseModel):
    """What the signal changed: the opt-outs recorded (none when the header was absent)."""

    subject_ref: str
    signal: bool
    opted_out: list[ConsentOut]


class CheckIn(SubjectSelector):
    """May the product use this person's data for these purposes (now, or at an instant in the past)?"""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"subject": {"kind": "email", "value": "ada@example.com"}, "purposes": ["newsletter", "analytics"]},
                {"subject_ref": "4f" * 32, "purposes": ["newsletter"], "at": "2026-01-15T10:00:00Z"},
            ]
        },
    )

    purposes: list[str] = Field(min_length=1, max_length=100)
    at: datetime | None = Field(default=None, description="Answer as of this instant (audits); defaults to now")


class CheckResultOut(BaseModel):
    """The answer for one purpose, and why."""

    purpose: str
    allowed: bool
    reason: CheckReason
    decided_at: datetime | None
    expires_at: datetime | None
    detail: str


class CheckOut(BaseModel):
    """The answers for one subject."""

    subject_ref: str
    at: datetime
    results: list[CheckResultOut]


class SubjectStatusOut(BaseModel):
    """Flags set by rights requests."""

    restricted: bool = False
    objected: bool = False
    erased_at: datetime | None = None


class HistoryOut(BaseModel):
    """Every decision recorded for a subject, oldest first, with the flags from rights requests."""

    subject_ref: str
    status: SubjectStatusOut
    records: list[ConsentOut]
