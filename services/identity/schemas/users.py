"""Request and response shapes of people's accounts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr

from services.identity.schemas.common import TENANT, examples

Email = Annotated[str, Field(min_length=3, max_length=320, pattern=r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")]
Role = Literal["admin", "dpo", "privacy_analyst", "security_lead", "auditor"]
Password = Annotated[SecretStr, Field(min_length=12, max_length=256)]


class UserIn(BaseModel):
    """A person of the tenant; without a password, the answer carries a one-time invitation link."""

    model_config = examples(
        {"email": "dpo@acme.example", "name": "Dana Protection", "roles": ["dpo"]},
        {"email": "auditor@acme.example", "name": "Avery Audit", "roles": ["auditor"]},
    )

    email: Email
    name: str = Field(min_length=1, max_length=255)
    roles: list[Role] = Field(min_length=1, max_length=5, description="See shared/rules/roles.py for what each gives")
    password: Password | None = Field(default=None, description="Set by the administrator; else an invitation")
    tenant: str | None = Field(default=None, pattern=TENANT, description="Another tenant: platform:admin only")


class UserPatch(BaseModel):
    """Changes to an account (absent fields stay as they are)."""

    model_config = examples({"roles": ["dpo", "auditor"]}, {"disabled": False})

    name: str | None = Field(default=None, min_length=1, max_length=255)
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=5)
    password: Password | None = None
    disabled: bool | None = Field(default=None, description="false enables a disabled account again")


class UserOut(BaseModel):
    """An account (never its password or invitation)."""

    id: uuid.UUID
    tenant: str
    email: str
    name: str
    roles: list[str]
    scopes: list[str] = Field(description="What the roles give, from the role table")
    has_password: bool
    invite_expires_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None
    disabled_at: datetime | None


class UserInvitedOut(UserOut):
    """An account with the invitation link just made: shown this once only."""

    invite_url: str | None = Field(default=None, description="One-time link where the person sets their password")
