"""Routes of portability to another controller: a request's transfers, and the package's published JSON Schema."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter

from services.dsar.api.deps import ReadUow
from services.dsar.schemas.portability import SCHEMA_PATH, TransferOut, package_schema
from services.dsar.service.transfers import list_transfers
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["portability"], responses=PROBLEM_RESPONSES)


@router.get(
    "/v1/requests/{request_id}/transfers",
    response_model=list[TransferOut],
    summary="The request's package sent to another controller",
)
async def transfers(request_id: uuid.UUID, uow: ReadUow) -> list[TransferOut]:
    """Where a portability request's package was sent (GDPR Art. 20(2)): each attempt, the receiver's
    acknowledgement (status and receipt) or the failure; empty for a request that names no receiving endpoint.
    """
    return await list_transfers(uow, request_id)


@router.get(
    SCHEMA_PATH,
    summary="The JSON Schema of a package's personal-data.json",
    responses={200: {"content": {"application/schema+json": {}}, "description": "JSON Schema 2020-12"}},
)
async def schema() -> dict[str, Any]:
    """The schema of ``personal-data.json`` in every access and portability package; no token needed."""
    return package_schema()
