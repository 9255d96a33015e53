"""Tables of the identity service (its own registry: they exist only in its database).

Private keys are stored only encrypted (AES-256-GCM under a key derived from the
``key_encryption_key`` setting, the key id bound as associated data); client secrets and
passwords only as Argon2id hashes (RFC 9106).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.runtime.db import UTCDateTime, service_registry

registry = service_registry()


class IdentityModel(SQLModel, registry=registry):
    """Base of every table of the identity service."""


class SigningKey(IdentityModel, table=True):
    """An Ed25519 key pair: the service's token keys (tenant ``*``) or a tenant's document keys."""

    __tablename__ = "signing_key"
    __label__ = "key"
    __table_args__ = (Index("ix_signing_key_use", "use", "tenant_id", "created_at"),)

    kid: str = Field(sa_column=Column(String(64), primary_key=True))
    use: str = Field(sa_column=Column(String(16), nullable=False))
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    x: str = Field(sa_column=Column(String(64), nullable=False))  # the public key, base64url (RFC 8037)
    sealed_private: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # nonce ‖ AES-GCM ciphertext
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    retired_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class Client(IdentityModel, table=True):
    """A confidential OAuth 2.0 client (RFC 6749 §2) of one tenant, or of every tenant (``*``)."""

    __tablename__ = "client"
    __table_args__ = (Index("ix_client_tenant", "tenant_id", "client_id"),)

    client_id: str = Field(sa_column=Column(String(64), primary_key=True))
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    name: str = Field(sa_column=Column(String(255), nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    system: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    redirect_uris: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    secret_hash: str = Field(sa_column=Column(String(255), nullable=False))
    created_by: str = Field(sa_column=Column(String(255), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    secret_rotated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    disabled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


metadata = registry.metadata
