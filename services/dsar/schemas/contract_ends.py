"""Shapes of contract ends (a tenant's data returned and destroyed), their tasks and exports."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.dsar.schemas.notifications import LOCALE_PATTERN


class ContractEndIn(BaseModel):
    """Ask for the end of the tenant's contract; a second person confirms it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "mode": "return_then_delete",
                    "effective_at": "2027-01-01T00:00:00Z",
                    "reason": "contract terminated by the customer (notice of 2026-11-30)",
                    "contract_ref": "MSA-2024-017",
                    "requested_by": "Camille Martin, DPO",
                    "notify_to": "dpo@customer.example",
                    "locale": "fr",
                }
            ]
        },
    )

    mode: Literal["return_then_delete", "delete"] = Field(
        description="return_then_delete: export everything first (one package), then delete; delete: delete at once"
    )
    effective_at: datetime = Field(description="When it runs (the job starts it at that instant or after)")
    reason: str = Field(min_length=3, max_length=2000)
    contract_ref: str | None = Field(default=None, max_length=255, description="The contract's reference")
    requested_by: str | None = Field(default=None, max_length=255, description="Who asks, as the record names them")
    notify_to: str = Field(
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        max_length=320,
        description="The customer's contact (an email address): gets the download link and the certificate",
    )
    locale: str | None = Field(default=None, pattern=LOCALE_PATTERN)


class ExemptionOut(BaseModel):
    """What a system kept, how much, and the law requiring it."""

    what: str
    records: int
    ground: str


class ContractEndTaskOut(BaseModel):
    """One system's part: its answer, counts, exemptions and the store client that did it."""

    id: uuid.UUID
    system: str
    name: str
    action: str
    state: str
    outcome: str | None
    manual: bool
    attempt: int
    records_affected: int
    exemptions: list[ExemptionOut]
    detail: str | None
    error: str | None
    store_client: str | None
    started_at: datetime | None
    completed_at: datetime | None
    closed_by: str | None
    evidence: str | None


class ContractEndOut(BaseModel):
    """A contract end, its stage and its tasks; the certificate once issued."""

    id: uuid.UUID
    mode: str
    state: str
    effective_at: datetime
    reason: str
    contract_ref: str | None
    requested_by: str = Field(description="The principal who asked (a different one must confirm)")
    requested_by_name: str | None
    requested_at: datetime
    confirmed_by: str | None
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    started_at: datetime | None
    package_id: uuid.UUID | None
    package_built_at: datetime | None
    deletion_started_at: datetime | None
    completed_at: datetime | None
    outcome: str | None
    certificate_id: uuid.UUID | None
    tasks: list[ContractEndTaskOut] = Field(default_factory=list)


class DestructionCertificateOut(BaseModel):
    """The signed certificate of destruction: the document, and the compact JWS over it (typ destruction-"
    "certificate+jwt)."""

    id: uuid.UUID
    contract_end_id: uuid.UUID
    certificate: dict[str, Any]
    jws: str | None = Field(description="null until identity has signed it (a job retries)")
    signed_at: datetime | None
    jwks_url: str


class TaskCloseByHandIn(BaseModel):
    """A person closes a system's task (a manual system, or a store that cannot): what was done, and the evidence."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"outcome": "done", "records": 212, "evidence": "paper archive shredded, certificate SHR-2027-014"}
            ]
        },
    )

    outcome: Literal["done", "no_data", "exempt"]
    records: int = Field(default=0, ge=0)
    evidence: str = Field(min_length=3, max_length=4000)


class TenantExportIn(BaseModel):
    """A store's export of everything it holds for the tenant, by dataset (table, collection, file)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"system": "crm", "datasets": {"contacts": [{"id": 1, "email": "ada@example.com"}], "notes": []}}
            ]
        },
    )

    system: str
    datasets: dict[str, list[dict[str, Any]]]


class TenantExportOut(BaseModel):
    """How many records were received."""

    task_id: uuid.UUID
    records: int
