"""Tables of the identity service (its own registry: they exist only in its database).

Private keys are stored only encrypted (AES-256-GCM under a key derived from the
``key_encryption_key`` setting, the key id bound as associated data); client secrets and
passwords only as Argon2id hashes (RFC 9106).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlmodel import Field, SQLModel

from shared.runtime.db import UTCDateTime, new_id, service_registry

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


class UserAccount(IdentityModel, table=True):
    """A person of a tenant who signs in to the console (a local account), with their roles."""

    __tablename__ = "user_account"
    __label__ = "user"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email"),
        Index("ix_user_account_email_ref", "tenant_id", "email_ref"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    email: str = Field(sa_column=Column(String(320), nullable=False))  # normalised
    email_ref: str = Field(sa_column=Column(String(64), nullable=False))  # its subject reference, for DSAR tasks
    name: str = Field(sa_column=Column(String(255), nullable=False))
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    password_hash: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    invite_hash: str | None = Field(default=None, sa_column=Column(String(64), nullable=True, unique=True))
    invite_expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    created_by: str = Field(sa_column=Column(String(255), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    last_login_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    disabled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class AuthorizationCode(IdentityModel, table=True):
    """A one-time authorization code (RFC 6749 §4.1.2), kept by the SHA-256 of its value, bound to PKCE."""

    __tablename__ = "authorization_code"

    code_hash: str = Field(sa_column=Column(String(64), primary_key=True))
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    client_id: str = Field(sa_column=Column(String(64), nullable=False))
    user_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)
    )
    redirect_uri: str = Field(sa_column=Column(String(2048), nullable=False))
    code_challenge: str = Field(sa_column=Column(String(128), nullable=False))
    nonce: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class LoginFailure(IdentityModel, table=True):
    """A failed sign-in of an account (by reference, never the address typed): the rate limit counts them."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_account", "tenant_id", "account_ref", "at"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    tenant_id: str = Field(sa_column=Column(String(64), nullable=False))
    account_ref: str = Field(sa_column=Column(String(64), nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


metadata = registry.metadata
