"""Shapes of rights requests: intake, the request as shown, verification, operator decisions, links."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from services.dsar.domain import DeadlineStatus, RequestType
from services.dsar.schemas.common import IdentifierIn, examples_config
from services.dsar.schemas.notifications import LOCALE_PATTERN


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
    target_endpoint: str | None = Field(
        default=None,
        max_length=2000,
        description="Portability: the receiving controller's https:// endpoint; the package is sent there, signed "
        "(GDPR Art. 20(2)), instead of a download link. Needs target_controller",
    )


# How a request reached the controller. The GDPR asks for no form (Art. 12(2),
# https://eur-lex.europa.eu/eli/reg/2016/679/oj; EDPB Guidelines 01/2022 on the right of access):
# a letter or a call counts from the day it arrived and is entered later, with its received_at.
CHANNELS = ("web", "app", "api", "email", "post", "phone", "in_person", "other")
Channel = Annotated[
    Literal["web", "app", "api", "email", "post", "phone", "in_person", "other"],
    BeforeValidator(lambda v: v.strip().lower().replace("-", "_").replace(" ", "_") if isinstance(v, str) else v),
]


class RequestIn(BaseModel):
    """A rights request to open."""

    model_config = examples_config(
        {
            "type": "erasure",
            "jurisdiction": "eu-gdpr",
            "identifiers": [{"kind": "email", "value": "ada@example.com"}, {"kind": "user_id", "value": "u-1001"}],
            "channel": "web",
            "locale": "fr",
        },
        {
            "type": "access",
            "jurisdiction": "eu-gdpr",
            "identifiers": [{"kind": "email", "value": "ada@example.com"}],
            "channel": "post",
            "received_at": "2026-03-02T09:30:00+01:00",
            "verification": "manual",
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
    channel: Channel | None = Field(
        default="web", description="How the request arrived: " + ", ".join(CHANNELS) + " (null: not recorded)"
    )
    received_at: AwareDatetime | None = Field(
        default=None,
        description="When the request arrived, with its timezone (a letter, a call entered later): the legal clock "
        "starts on its day. Never in the future; default: now",
    )
    authorised_agent: AgentIn | None = None
    details: DetailsIn = Field(default_factory=DetailsIn)
    verification: Literal["email_code", "manual"] = Field(
        default="email_code", description="email_code sends a one-time code to the email identifier"
    )
    locale: str | None = Field(
        default=None,
        max_length=16,
        pattern=LOCALE_PATTERN,
        description="The subject's language (BCP 47, e.g. fr): every message about the request is written in it",
    )


class DeadlineOut(BaseModel):
    """The legal clock, as stored."""

    due_at: datetime
    initial_due_at: datetime
    acknowledge_by: datetime | None
    acknowledged_at: datetime | None = Field(description="When the acknowledgement of receipt went to the subject")
    basis: str
    calendar: str | None = Field(description="The public holidays its dates leave out (e.g. FR); null: weekends only")
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


class TransferSummary(BaseModel):
    """Where a portability request's package stands on its way to the receiving controller."""

    id: uuid.UUID
    controller: str
    state: Literal["pending", "delivered", "failed", "cancelled"]
    attempts: int
    delivered_at: datetime | None
    failure_reason: str | None


class RequestOut(BaseModel):
    """A rights request as the privacy team sees it (identifiers are never returned)."""

    id: uuid.UUID
    type: str
    state: str
    jurisdiction: str
    channel: str | None
    locale: str | None
    subject_ref: str
    identifier_kinds: list[str]
    authorised_agent: str | None
    details: dict[str, Any]
    received_at: datetime = Field(description="When the request arrived: the legal clock starts on its day")
    entered_at: datetime = Field(description="When it was entered into privops (later for a letter or a call)")
    entered_by: str | None = Field(description="Who entered it: the token's subject")
    deadline: DeadlineOut
    repetition: dict[str, Any]
    verification: VerificationOut
    refusal: RefusalOut | None
    outcome: str | None
    closed_at: datetime | None
    certificate_id: uuid.UUID | None
    package_id: uuid.UUID | None
    transfer: TransferSummary | None = Field(
        default=None, description="The package sent to the receiving controller (portability), and how it went"
    )
    identifiers_purged: bool


class CodeIn(BaseModel):
    """The one-time code the subject received."""

    model_config = examples_config({"code": "042917"})
    code: str = Field(min_length=4, max_length=12)


class ManualVerificationIn(BaseModel):
    """An operator's confirmation of identity, with the reference of the evidence seen."""

    model_config = examples_config({"evidence_ref": "ID-DOC-2026-0042", "note": "passport checked by video call"})
    evidence_ref: str = Field(min_length=1, max_length=255)
    note: str | None = Field(default=None, max_length=2000)


class ExtensionIn(BaseModel):
    """The one extension: reasons go to the subject (now, unless ``reasons_sent_at`` says when they went)."""

    model_config = examples_config({"reasons": "The request covers twelve years of records in five systems."})
    reasons: str = Field(min_length=10, max_length=4000)
    reasons_sent_at: datetime | None = None


class RefusalIn(BaseModel):
    """A refusal with its grounds and reasons (the subject is told of the right to complain)."""

    model_config = examples_config(
        {"grounds": "manifestly_excessive", "reasons": "Third identical request this month."}
    )
    grounds: Literal["manifestly_unfounded", "manifestly_excessive", "identity_not_established", "exemption"]
    reasons: str = Field(min_length=5, max_length=4000)


class CancelIn(BaseModel):
    """Why the request is withdrawn."""

    reason: str | None = Field(default=None, max_length=2000)


class LinkOut(BaseModel):
    """A download link and when it stops working."""

    url: str
    expires_at: datetime


class PackageOut(BaseModel):
    """What a download link leads to, shown before the download (never the data itself)."""

    id: uuid.UUID
    request_type: str = Field(description="access or portability")
    size_bytes: int = Field(description="The ZIP's size")
    created_at: datetime
    expires_at: datetime = Field(description="When the link stops working")
    downloaded_at: datetime | None = Field(description="The first download, if any")
