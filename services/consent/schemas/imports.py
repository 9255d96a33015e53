"""Shapes of bulk imports."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ImportIn(BaseModel):
    """Open a bulk import; rows are then sent in chunks, each at the offset the job has reached."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"format": "ndjson", "source_name": "crm-export-2026-03.ndjson"}]},
    )

    format: Literal["ndjson", "csv"]
    source_name: str | None = Field(default=None, max_length=255)


class ImportOut(BaseModel):
    """Where an import stands; ``rows_done`` is the offset of the next chunk (resume from there)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    format: str
    source_name: str | None
    status: str
    rows_done: int
    accepted: int
    rejected: int
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


class RejectionOut(BaseModel):
    """One rejected row: its number (1 = first data row) and why; never its content."""

    model_config = ConfigDict(from_attributes=True)

    line: int
    field: str | None
    error: str
