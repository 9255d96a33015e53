"""Shapes of portability: the package's JSON document (its published JSON Schema) and the transfers' record.

The package answers access and portability requests "in a structured, commonly used and
machine-readable format" (GDPR Art. 20(1), https://eur-lex.europa.eu/eli/reg/2016/679/oj): JSON that
follows the schema below, and CSV, in a ZIP with a manifest of checksums.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_PATH = "/v1/schemas/portability-package.json"
PACKAGE_DOCUMENT = "personal-data.json"
MANIFEST = "manifest.json"
CHECKSUMS = "checksums.sha256"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class PackageController(BaseModel):
    """The controller that answered the request."""

    model_config = ConfigDict(extra="forbid")

    tenant: str = Field(description="The controller's privops tenant")
    issuer: str = Field(description="The privops service that built the package (its public URL)")


class PackageRecipient(BaseModel):
    """The controller the data is transmitted to (Art. 20(2)); absent for a download."""

    model_config = ConfigDict(extra="forbid")

    name: str
    endpoint: str


class PackageSystem(BaseModel):
    """One system's part of the data: what it is and every record it holds about the person."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="The system's key in the controller's data map")
    name: str
    owner: str | None = None
    data_categories: list[str] = Field(default_factory=list)
    purposes: list[str] = Field(default_factory=list)
    outcome: str | None = Field(description="done, no_data or exempt (a legal reason keeps some data back)")
    record_count: int = Field(ge=0)
    records: list[dict[str, Any]] = Field(
        description="The records as the system exported them: flat or nested JSON objects, one per record"
    )
    csv: str = Field(description="The path of the same records as CSV in the ZIP (nested values as JSON)")


class PortabilityPackage(BaseModel):
    """The personal data of one person, as the privops DSAR service packages it (``personal-data.json``)."""

    model_config = ConfigDict(
        extra="forbid",
        title="privops personal data package",
        json_schema_extra={"$schema": JSON_SCHEMA_DIALECT},
    )

    format: Literal["privops-personal-data"] = "privops-personal-data"
    version: Literal[1] = 1
    package_id: uuid.UUID
    request_id: uuid.UUID
    request_type: Literal["access", "portability"]
    jurisdiction: str
    received_at: datetime
    generated_at: datetime
    controller: PackageController
    recipient: PackageRecipient | None = None
    systems: list[PackageSystem]


def package_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of ``personal-data.json``, as published in docs/ and by the service."""
    return PortabilityPackage.model_json_schema(mode="serialization")


class AttemptOut(BaseModel):
    """One send of the package: when, the receiver's status (none: no answer) and what went wrong."""

    at: datetime
    status: int | None
    error: str | None = None
    receipt: str | None = Field(default=None, description="The start of the receiver's answer")


class TransferOut(BaseModel):
    """A package sent to the receiving controller: its attempts and the acknowledgement, or the failure."""

    id: uuid.UUID
    request_id: uuid.UUID
    package_id: uuid.UUID
    controller: str
    endpoint: str
    state: Literal["pending", "delivered", "failed", "cancelled"]
    content_digest: str = Field(description="RFC 9530 Content-Digest of the body sent (sha-256)")
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    response_status: int | None = Field(description="The receiver's last status code")
    receipt_id: str | None = Field(description="The receiver's receipt id, from its acknowledgement")
    receipt: str | None = Field(description="The receiver's acknowledgement (the start of its answer)")
    failure_reason: str | None
    delivered_at: datetime | None
    failed_at: datetime | None
    created_at: datetime
    history: list[AttemptOut]
