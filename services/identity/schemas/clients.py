"""Request and response shapes of clients."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from services.identity.domain.clients import ClientKind
from services.identity.schemas.common import TENANT_OR_ALL, examples

Scope = Annotated[str, Field(min_length=3, max_length=64, pattern=r"^[a-z]+:[a-z]+$")]
RedirectUri = Annotated[str, Field(min_length=8, max_length=2048)]


class ClientIn(BaseModel):
    """A new client; its scopes must be ones the caller holds (no widening)."""

    model_config = examples(
        {"client_id": "crm-store", "name": "CRM data store", "kind": "store", "scopes": ["dsar:task"], "system": "crm"},
        {"client_id": "shop-backend", "name": "Shop backend", "kind": "backend", "scopes": ["consent:write"]},
    )

    client_id: str = Field(
        min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$", description="Chosen slug, unique"
    )
    name: str = Field(min_length=1, max_length=255)
    kind: ClientKind
    scopes: list[Scope] = Field(default_factory=list, max_length=64)
    system: str | None = Field(
        default=None, max_length=64, description="The DSAR registry's key of a store client's system, e.g. crm"
    )
    redirect_uris: list[RedirectUri] = Field(default_factory=list, max_length=10, description="Console clients only")
    tenant: str | None = Field(
        default=None,
        pattern=TENANT_OR_ALL,
        description="Default: the caller's tenant. Another tenant, or '*' (every tenant), needs platform:admin",
    )


class ClientOut(BaseModel):
    """A client as registered (its secret is never shown again)."""

    client_id: str
    tenant: str
    name: str
    kind: ClientKind
    scopes: list[str]
    system: str | None
    redirect_uris: list[str]
    created_by: str
    created_at: datetime
    secret_rotated_at: datetime | None
    disabled_at: datetime | None


class ClientCreatedOut(ClientOut):
    """A client with the secret just made: shown this once only."""

    client_secret: str = Field(description="Shown once: store it now (it is kept only as an Argon2id hash)")
