"""Tables of a contract end (GDPR Art. 28(3)(g)): the end itself and each system's part of it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, Index, Integer, LargeBinary, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from services.dsar.models import DsarModel, _json, _str, _ts
from shared.runtime.db import new_id


class ContractEnd(DsarModel, table=True):
    """The end of a customer's (a tenant's) contract: its data returned and destroyed everywhere (Art. 28(3)(g)).

    Kept after the tenant's other rows are purged: it and its certificate of destruction are the evidence.
    """

    __tablename__ = "dsar_contract_end"
    __table_args__ = (Index("ix_dsar_contract_end_due", "effective_at", postgresql_where=text("state = 'confirmed'")),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = _str(64, nullable=False)
    mode: str = _str(32, nullable=False)
    state: str = _str(16, nullable=False)
    effective_at: datetime = _ts(nullable=False)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    contract_ref: str | None = _str(255)
    requested_by: str = _str(255, nullable=False)  # the principal: the four-eyes rule compares these
    requested_by_name: str | None = _str(255)  # who asks, as the customer's record names them
    requested_at: datetime = _ts(nullable=False)
    confirmed_by: str | None = _str(255)
    confirmed_at: datetime | None = _ts()
    cancelled_by: str | None = _str(255)
    cancelled_at: datetime | None = _ts()
    # The customer's contact for the certificate (and the download link), encrypted; erased once delivered.
    notify_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    locale: str | None = _str(16)
    started_at: datetime | None = _ts()
    package_id: uuid.UUID | None = None
    package_built_at: datetime | None = _ts()
    deletion_started_at: datetime | None = _ts()
    completed_at: datetime | None = _ts()
    outcome: str | None = _str(16)
    certificate_id: uuid.UUID | None = None
    certificate: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    # A compact JWS (typ destruction-certificate+jwt) made by identity; None until signed (a job retries).
    signature: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    signed_at: datetime | None = _ts()
    notified_at: datetime | None = _ts()
    updated_at: datetime = _ts(nullable=False)


class ContractEndTask(DsarModel, table=True):
    """One system's part of a contract end: export everything, or destroy everything, of the tenant."""

    __tablename__ = "dsar_contract_end_task"
    __table_args__ = (
        UniqueConstraint("contract_end_id", "system_key", "action", name="uq_dsar_contract_end_task"),
        Index("ix_dsar_contract_end_task_retry", "next_retry_at", postgresql_where=text("state = 'open'")),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = _str(64, nullable=False)
    contract_end_id: uuid.UUID = Field(index=True)
    system_key: str = _str(64, nullable=False)
    system_name: str = _str(255, nullable=False)
    action: str = _str(16, nullable=False)
    state: str = _str(16, nullable=False, default="open")
    outcome: str | None = _str(16)
    manual: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false")))
    attempt: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    published_at: datetime = _ts(nullable=False)
    next_retry_at: datetime | None = _ts()
    records_affected: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    exemptions: list[dict[str, Any]] = _json()
    holds: list[dict[str, Any]] = _json()
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    store_client: str | None = _str(255)
    export_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    started_at: datetime | None = _ts()
    completed_at: datetime | None = _ts()
    closed_by: str | None = _str(255)
    evidence: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = _ts(nullable=False)
