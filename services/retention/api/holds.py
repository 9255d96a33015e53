"""Legal holds: place, list, release."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from services.retention.api.deps import ReadUow, WriteUow
from services.retention.models import LegalHoldRow
from services.retention.schemas import HoldIn, HoldOut, ReleaseIn
from services.retention.service import holds
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/holds", tags=["holds"], responses=PROBLEM_RESPONSES)


@router.post("", status_code=201, response_model=HoldOut, summary="Place a legal hold")
async def place_hold(body: HoldIn, uow: WriteUow) -> LegalHoldRow:
    """Keep what the hold covers out of every sweep; a hold without a reason or a scope is refused (422)."""
    return await holds.place_hold(uow, **body.model_dump())


@router.get("", response_model=list[HoldOut], summary="List legal holds")
async def list_holds(uow: ReadUow, active: Annotated[bool, Query()] = False) -> list[LegalHoldRow]:
    """The tenant's holds, newest first; ``active=true`` for those still standing."""
    return await holds.list_holds(uow, active_only=active)


@router.get("/{hold_id}", response_model=HoldOut, summary="Read one legal hold")
async def get_hold(hold_id: uuid.UUID, uow: ReadUow) -> LegalHoldRow:
    """One hold of the caller's tenant."""
    return await holds.get_hold(uow, hold_id)


@router.post("/{hold_id}/release", response_model=HoldOut, summary="Release a legal hold")
async def release_hold(hold_id: uuid.UUID, body: ReleaseIn, uow: WriteUow) -> LegalHoldRow:
    """Release a hold: the next sweep takes what it kept; a second release is a conflict (409)."""
    return await holds.release(uow, hold_id, body.reason)
