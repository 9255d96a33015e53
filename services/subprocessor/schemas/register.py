"""Request and response shapes of the register: subprocessors, their history, customers and contacts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.subprocessor.domain import TransferMechanism
from services.subprocessor.schemas.common import examples


class LocationIn(BaseModel):
    """A country where the subprocessor processes data, with the transfer mechanism when outside the EEA."""

    model_config = ConfigDict(extra="forbid")

    country: str = Field(min_length=2, max_length=3, description="ISO 3166 alpha-2 code (EPO for the EPO)")
    mechanism: TransferMechanism | None = Field(default=None, description="Required outside the EEA")


class SubprocessorIn(BaseModel):
    """A subprocessor to enter in the register (active: already in use; proposed: to be added by a change)."""

    model_config = examples(
        {
            "name": "MailRelay",
            "legal_entity": "MailRelay Inc., 1 Market St, San Francisco, CA, USA",
            "service": "Transactional email delivery",
            "purposes": ["transactional_email"],
            "data_categories": ["contact_details"],
            "locations": [{"country": "IE"}, {"country": "US", "mechanism": "sccs"}],
            "dpa_signed_on": "2026-01-15",
            "status": "proposed",
        }
    )

    name: str = Field(min_length=1, max_length=128)
    legal_entity: str = Field(min_length=1, max_length=255)
    service: str = Field(min_length=1, max_length=2000)
    purposes: list[str] = Field(min_length=1, max_length=50)
    data_categories: list[str] = Field(min_length=1, max_length=50)
    locations: list[LocationIn] = Field(min_length=1, max_length=50)
    dpf_certified: bool = Field(default=False, description="The importer's active DPF certification was checked")
    dpa_signed_on: date | None = None
    website: str | None = Field(default=None, max_length=512)
    status: Literal["proposed", "active"] = "proposed"


class SubprocessorOut(BaseModel):
    """A subprocessor as the register shows it now."""

    id: uuid.UUID
    name: str
    legal_entity: str
    service: str
    purposes: list[str]
    data_categories: list[str]
    locations: list[dict[str, Any]]
    dpf_certified: bool
    dpa_signed_on: date | None
    website: str | None
    status: str
    version: int
    created_at: datetime
    updated_at: datetime


class SubprocessorVersionOut(BaseModel):
    """One version in a subprocessor's history."""

    version: int
    reason: str
    change_id: uuid.UUID | None
    actor: str
    snapshot: dict[str, Any]
    recorded_at: datetime


class ContactIn(BaseModel):
    """A person at the customer who receives notices by email."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    role: str = Field(default="privacy", min_length=1, max_length=64)
    locale: str | None = Field(
        default=None,
        pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
        max_length=16,
        description="Language of the notices sent to this contact (else the tenant's default)",
    )


class ContactOut(BaseModel):
    """A contact, named by its subject reference (the address is shown only to the notification sender)."""

    id: uuid.UUID
    subject_ref: str
    role: str
    locale: str | None = None
    restricted: bool


class CustomerIn(BaseModel):
    """A customer (controller) and its contract terms."""

    model_config = examples(
        {
            "reference": "globex",
            "name": "Globex Corporation",
            "notice_period_days": 30,
            "webhook_url": "https://privacy.globex.example/hooks/subprocessors",
            "contacts": [{"email": "dpo@globex.example", "role": "dpo"}],
            "subprocessor_ids": ["6f1c1d3e-0d5e-4c36-8d0e-7b8f2c9a1e11"],
        }
    )

    reference: str = Field(min_length=1, max_length=128, description="The tenant's own id for this customer")
    name: str = Field(min_length=1, max_length=255)
    notice_period_days: int = Field(default=15, ge=1, le=365, description="Agreed notice period (default 15 days)")
    webhook_url: str | None = Field(default=None, max_length=2048, description="https outside local/test")
    contacts: list[ContactIn] = Field(default_factory=list, max_length=20)
    subprocessor_ids: list[uuid.UUID] = Field(default_factory=list, description="Active subprocessors it uses")


class CustomerOut(BaseModel):
    """A customer, its contacts and the subprocessors processing its data."""

    id: uuid.UUID
    reference: str
    name: str
    notice_period_days: int
    webhook_url: str | None
    contacts: list[ContactOut]
    subprocessor_ids: list[uuid.UUID]
    created_at: datetime
    webhook_secret: str | None = Field(
        default=None, description="Shown only when the customer is created: verify Privops-Signature with it"
    )


class CustomerSubprocessorsIn(BaseModel):
    """The subprocessors that process one customer's data (replaces the current list)."""

    model_config = examples({"subprocessor_ids": ["6f1c1d3e-0d5e-4c36-8d0e-7b8f2c9a1e11"]})

    subprocessor_ids: list[uuid.UUID] = Field(max_length=500)
