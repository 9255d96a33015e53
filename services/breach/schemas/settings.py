"""Shapes of a tenant's notice settings: the contact point, the authorities, the customers, the locale."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.breach.domain.clocks import Jurisdiction
from services.breach.schemas.fields import CustomerId, Label

# Enough to refuse a typo; the mail server is the judge of the rest.
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40, pattern=r"^\+?[0-9 ().-]{4,40}$")]
Locale = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", max_length=16)]

SETTINGS_EXAMPLE: dict[str, Any] = {
    "contact": {"name": "Jeanne Martin", "email": "dpo@acme.example", "phone": "+33 1 23 45 67 89"},
    "authorities": {
        "eu-gdpr": {"name": "CNIL", "email": "notifications@cnil.example", "locale": "fr"},
        "uk-gdpr": {"name": "ICO", "portal_url": "https://ico.org.uk/for-organisations/report-a-breach/"},
    },
    "customers": {"cust-42": {"name": "Globex privacy team", "email": "privacy@globex.example", "locale": "en"}},
    "default_locale": "fr",
}


class ContactPointIn(BaseModel):
    """The DPO or other contact point of GDPR Art. 33(3)(b): a name and a way to reach them."""

    model_config = ConfigDict(extra="forbid")

    name: Label
    email: Email | None = None
    phone: Phone | None = None
    role: Label = Field(default="Data Protection Officer", description="DPO, or what the contact point is")

    @model_validator(mode="after")
    def _reachable(self) -> ContactPointIn:
        # Art. 33(3)(b) asks for the name *and contact details*: a name alone reaches no one.
        if not self.email and not self.phone:
            raise ValueError("the contact point needs an email or a phone number (GDPR Art. 33(3)(b))")
        return self


class AuthorityContactIn(BaseModel):
    """A supervisory authority's contact for one jurisdiction: an email notify can send to, or its portal."""

    model_config = ConfigDict(extra="forbid")

    name: Label
    email: Email | None = None
    portal_url: AnyHttpUrl | None = Field(default=None, description="Where a person submits the notice by hand")
    locale: Locale | None = Field(default=None, description="The language of notices to this authority")

    @model_validator(mode="after")
    def _reachable(self) -> AuthorityContactIn:
        if not self.email and not self.portal_url:
            raise ValueError("an authority needs an email or a portal URL")
        return self


class CustomerContactIn(BaseModel):
    """Whom a controller customer wants its breach notices sent to (when we act as its processor)."""

    model_config = ConfigDict(extra="forbid")

    name: Label | None = None
    email: Email
    locale: Locale | None = None


class SettingsIn(BaseModel):
    """A tenant's notice settings, replaced as a whole."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [SETTINGS_EXAMPLE]})

    contact: ContactPointIn | None = Field(default=None, description="Named in every notice (Art. 33(3)(b))")
    authorities: dict[Jurisdiction, AuthorityContactIn] = Field(default={}, description="Per jurisdiction")
    customers: dict[CustomerId, CustomerContactIn] = Field(default={}, max_length=5000, description="Per customer id")
    default_locale: Locale | None = Field(default=None, description="Of notices whose recipient names none")


class SettingsOut(SettingsIn):
    """A tenant's notice settings, and who changed them last (never set: empty)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [SETTINGS_EXAMPLE]})

    updated_at: datetime | None = None
    updated_by: str | None = None
