"""Shapes of the purpose catalogue, notice versions and the controller profile."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.consent.domain import LawfulBasis

PURPOSE_KEY = r"^[a-z0-9][a-z0-9_.-]*$"


class PurposeIn(BaseModel):
    """A purpose to add to the tenant's catalogue."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "key": "newsletter",
                    "name": "Newsletter",
                    "description": "Our monthly newsletter by email",
                    "lawful_basis": "consent",
                    "data_categories": ["contact.email"],
                    "validity": "P3Y",
                    "min_age": 16,
                    "gpc_covered": False,
                    "direct_marketing": True,
                }
            ]
        },
    )

    key: str = Field(min_length=1, max_length=128, pattern=PURPOSE_KEY)
    name: str = Field(min_length=1, max_length=255)
    description: str = Field(default="", max_length=10_000)
    lawful_basis: LawfulBasis
    data_categories: list[str] = Field(default_factory=list, max_length=100)
    validity: str | None = Field(default=None, max_length=32, description="ISO 8601 duration, e.g. P3Y, P13M")
    min_age: int | None = Field(default=None, ge=1, le=21, description="Tenant's minimum age (raises the legal one)")
    gpc_covered: bool = Field(default=False, description="A Global Privacy Control signal opts out of this purpose")
    direct_marketing: bool = Field(default=False, description="An objection always stops it (GDPR Art. 21(3))")
    tcf_purpose_id: int | None = Field(default=None, ge=1, le=24, description="The IAB TCF purpose it maps to")


class PurposePatch(BaseModel):
    """Changes to a purpose (its key, basis and notices are not changed this way)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"validity": "P13M", "gpc_covered": True}]}
    )

    name: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=10_000)
    data_categories: list[str] | None = Field(default=None, max_length=100)
    validity: str | None = Field(default=None, max_length=32)
    min_age: int | None = Field(default=None, ge=1, le=21)
    gpc_covered: bool | None = None
    direct_marketing: bool | None = None
    tcf_purpose_id: int | None = Field(default=None, ge=1, le=24)


class PurposeOut(BaseModel):
    """A purpose of the catalogue."""

    model_config = ConfigDict(from_attributes=True)

    key: str
    name: str
    description: str
    lawful_basis: LawfulBasis
    data_categories: list[str]
    validity: str | None
    min_age: int | None
    gpc_covered: bool
    direct_marketing: bool
    tcf_purpose_id: int | None
    current_notice_version: int | None
    renewal_required_since: int | None
    created_at: datetime
    updated_at: datetime


class NoticeIn(BaseModel):
    """A new version of the notice describing a purpose; immutable once published."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Newsletter",
                    "text": "We will send you our newsletter once a month. Unsubscribe at any time.",
                    "summary": "The newsletter now comes monthly instead of weekly.",
                    "url": "https://example.com/privacy/newsletter/v2",
                    "language": "en",
                    "material": True,
                }
            ]
        },
    )

    title: str | None = Field(default=None, min_length=1, max_length=255, description="The heading people see")
    text: str | None = Field(
        default=None,
        min_length=1,
        max_length=200_000,
        description="The text; kept, and served publicly with its history",
    )
    text_hash: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the text (line endings as \\n); alone when the text is kept elsewhere, "
        "else it must match the text",
    )
    summary: str | None = Field(default=None, max_length=5_000, description="What changed, in a few words")
    url: str | None = Field(default=None, max_length=1024)
    language: str = Field(default="en", max_length=35, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
    material: bool = Field(
        default=False, description="A material change: the people whose grant is in force are told of it"
    )
    requires_renewal: bool | None = Field(
        default=None,
        description="Grants under earlier versions must be given again (default: true for a material change of a "
        "consent purpose); the message then asks for it and cannot be unsubscribed from",
    )
    expires_at: datetime | None = None


class NoticeOut(BaseModel):
    """A published notice version."""

    model_config = ConfigDict(from_attributes=True)

    purpose: str
    version: int
    title: str | None = None
    text_hash: str
    summary: str | None = None
    url: str | None
    language: str
    material: bool
    requires_renewal: bool = False
    published_at: datetime
    expires_at: datetime | None


class ControllerIn(BaseModel):
    """The tenant as a PII controller, as its consent receipts name it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Example SAS",
                    "contact": "Data Protection Officer",
                    "address": "1 rue de la Paix, 75002 Paris, France",
                    "email": "dpo@example.com",
                    "phone": "+33 1 23 45 67 89",
                    "url": "https://example.com",
                    "policy_url": "https://example.com/privacy",
                    "jurisdiction": "FR",
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=255)
    contact: str = Field(min_length=1, max_length=255)
    address: str = Field(min_length=1, max_length=2000)
    email: str = Field(min_length=3, max_length=320)
    phone: str = Field(min_length=3, max_length=64)
    url: str | None = Field(default=None, max_length=1024)
    policy_url: str = Field(pattern=r"^https?://", max_length=1024)
    jurisdiction: str = Field(default="EU", min_length=2, max_length=64)

    @field_validator("url", "policy_url")
    @classmethod
    def _absolute_http_url(cls, value: str | None) -> str | None:
        """What a consent receipt will carry: an absolute http(s) URL that parses."""
        if value is None:
            return None
        try:
            parts = urlsplit(value.strip())
        except ValueError:
            raise ValueError("must be an absolute http(s) URL") from None
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL")
        return value


class ControllerOut(ControllerIn):
    """The stored controller profile."""

    model_config = ConfigDict(from_attributes=True, extra="ignore")

    updated_at: datetime

    @field_validator("url", "policy_url")
    @classmethod
    def _absolute_http_url(cls, value: str | None) -> str | None:
        return value  # a stored profile is shown as it is
