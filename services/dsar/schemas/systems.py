"""Shapes of the data-system registry (the data map) and of Art. 19 recipients."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
        },
        {
            "name": "Paper archive",
            "owner": "facilities@example.com",
            "manual": True,
            "instructions": "Files are in room 3B, cabinets A-F, filed by surname. Shred the customer's file, "
            "note the cabinet and the shredding slip number as evidence.",
            "contact": "records-office@example.com",
            "data_categories": ["contracts"],
            "retention": "10 years after the end of the contract",
        },
    )

    name: str = Field(min_length=1, max_length=255)
    owner: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=4000)
    data_categories: list[str] = Field(default_factory=list, max_length=100)
    actions: list[TaskAction] = Field(
        default_factory=list,
        description="The tasks the system answers; required unless manual (a manual system takes every action "
        "when none is listed)",
    )
    credentials_scope: str = Field(default="dsar:task", max_length=64)
    purposes: list[str] = Field(default_factory=list, max_length=100)
    recipients: list[str] = Field(default_factory=list, max_length=100)
    retention: str | None = Field(default=None, max_length=255)
    source: str | None = Field(default=None, max_length=255)
    transfer_safeguards: str | None = Field(default=None, max_length=255)
    manual: bool = Field(
        default=False,
        description="No API: its tasks are not published; the privacy team is alerted and a person closes each "
        "one by hand (POST /v1/tasks/{id}/close) with the evidence",
    )
    instructions: str | None = Field(
        default=None,
        max_length=4000,
        description="For a manual system (required): how a person carries out a task: where the data is, what to "
        "do, what to keep as proof",
    )
    contact: str | None = Field(
        default=None, max_length=255, description="For a manual system: who carries out its tasks (a team, a mailbox)"
    )

    @model_validator(mode="after")
    def _manual_or_actions(self) -> Self:
        if not self.manual and not self.actions:
            raise ValueError("actions: list the tasks a system with an API answers (at least one)")
        if self.manual and not (self.instructions and self.instructions.strip()):
            raise ValueError("instructions: a manual system says how a person carries out its tasks")
        if self.manual and not self.actions:
            self.actions = list(TaskAction)
        return self


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


class DisclosureOut(BaseModel):
    """A disclosure of a person's data to a recipient outside the tenant, as another service reported it."""

    subject_ref: str
    recipient: str
    recipient_country: str
    categories: list[str]
    disclosed_at: datetime
    source: str = Field(description="The privops service that reported it")
    reference: str = Field(description="What it was disclosed on in that service (an authority demand's id)")
