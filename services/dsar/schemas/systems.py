"""Shapes of the data-system registry (the data map) and of Art. 19 recipients."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.dsar.domain.tasks import TaskAction
from services.dsar.schemas.common import KEY_PATTERN, IdentifierIn, examples_config


class SystemIn(BaseModel):
    """A data system to register (the data map)."""

    model_config = examples_config(
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

    model_config = examples_config(
        {"subject": {"kind": "email", "value": "ada@example.com"}, "system": "crm", "recipient": "Acme Mailing Ltd"}
    )
    subject: IdentifierIn
    system: str = Field(pattern=KEY_PATTERN)
    recipient: str = Field(min_length=1, max_length=255)
