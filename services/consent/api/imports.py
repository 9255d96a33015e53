"""Endpoints of bulk imports: open a job, send chunks of rows at its offset, read the rejected-row report."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.consent.api.deps import AdminUow
from services.consent.models import ImportJob, ImportRejection
from services.consent.schemas.imports import ImportIn, ImportOut, RejectionOut
from services.consent.service import imports
from shared.rules.errors import BadRequest
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1", tags=["imports"], responses=PROBLEM_RESPONSES)
MAX_CHUNK_BYTES = 16 * 1024 * 1024  # a chunk is held in memory while it is parsed and written
CHUNK_BODY = {
    "requestBody": {
        "required": True,
        "description": "Rows as NDJSON (one JSON object per line) or CSV (header line first, in every chunk)",
        "content": {
            "application/x-ndjson": {
                "example": '{"subject_kind": "email", "subject": "ada@example.com", "purpose": "newsletter",'
                ' "decision": "granted", "occurred_at": "2024-05-01T10:00:00Z", "channel": "web"}\n'
            },
            "text/csv": {
                "example": "subject_kind,subject,purpose,decision,occurred_at\n"
                "email,ada@example.com,newsletter,granted,2024-05-01T10:00:00Z\n"
            },
        },
    }
}


@router.post("/imports", status_code=201, response_model=ImportOut, summary="Open a bulk import")
async def open_import(body: ImportIn, uow: AdminUow) -> ImportJob:
    """Create an import job (NDJSON or CSV); send its rows with ``POST /v1/imports/{id}/rows``."""
    return await imports.open_import(uow, body)


@router.get("/imports/{import_id}", response_model=ImportOut, summary="Where an import stands")
async def get_import(import_id: uuid.UUID, uow: AdminUow) -> ImportJob:
    """Counts and the offset to resume from."""
    return await imports.get_import(uow, import_id)


@router.post(
    "/imports/{import_id}/rows",
    response_model=ImportOut,
    summary="Send a chunk of rows",
    openapi_extra=CHUNK_BODY,
)
async def import_rows(
    import_id: uuid.UUID,
    request: Request,
    uow: AdminUow,
    offset: Annotated[
        int,
        Query(
            ge=0,
            description="Rows before this chunk: the job's rows_done, or ahead of it while the chunks before "
            "are in progress (this one waits for them, up to 15 s); 409 with rows_done otherwise",
        ),
    ],
) -> ImportJob:
    """Validate each row; store the good ones with their events and report the bad ones, in one transaction.

    A row is a line (NDJSON) or a record (CSV, after the header line repeated in every chunk). A client
    may send the next chunk before this one's answer, at the offset this one ends at: it is parsed
    meanwhile and written right after, in order. A chunk ahead with no chunk of the import in progress
    gets 409 after a second; if a chunk fails, the ones sent after it get 409 and the import resumes
    from ``rows_done``.
    """
    raw = await request.body()
    if len(raw) > MAX_CHUNK_BYTES:
        raise BadRequest(f"A chunk may hold at most {MAX_CHUNK_BYTES} bytes; send smaller chunks.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("The rows must be UTF-8 text.") from None
    return await imports.import_chunk(uow, import_id, offset, text)


@router.post("/imports/{import_id}/complete", response_model=ImportOut, summary="Close an import")
async def complete_import(import_id: uuid.UUID, uow: AdminUow) -> ImportJob:
    """No more chunks are accepted after this."""
    return await imports.complete_import(uow, import_id)


@router.get("/imports/{import_id}/rejections", response_model=list[RejectionOut], summary="Rejected-row report")
async def list_rejections(
    import_id: uuid.UUID,
    uow: AdminUow,
    after: Annotated[int, Query(ge=0, description="Return rows after this line number")] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[ImportRejection]:
    """Each rejected row's number, field and reason (page with ``after``)."""
    return await imports.rejections(uow, import_id, after, limit)
