"""Endpoints of the purpose catalogue, notice versions and the controller profile."""

from __future__ import annotations

from fastapi import APIRouter

from services.consent.api.deps import AdminUow, ReadUow
from services.consent.models import ControllerProfile, NoticeVersion, Purpose
from services.consent.schemas.purposes import (
    ControllerIn,
    ControllerOut,
    NoticeIn,
    NoticeOut,
    PurposeIn,
    PurposeOut,
    PurposePatch,
)
from services.consent.service import catalogue
from services.consent.service.common import all_purposes
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1", tags=["purposes"], responses=PROBLEM_RESPONSES)


@router.post("/purposes", status_code=201, response_model=PurposeOut, summary="Add a purpose to the catalogue")
async def create_purpose(body: PurposeIn, uow: AdminUow) -> Purpose:
    """A purpose with its lawful basis, data categories, validity, minimum age and GPC coverage (409 if it exists)."""
    return await catalogue.create_purpose(uow, body)


@router.get("/purposes", response_model=list[PurposeOut], summary="List the purpose catalogue")
async def list_purposes(uow: ReadUow) -> list[Purpose]:
    """Every purpose of the caller's tenant."""
    return await all_purposes(uow)


@router.get("/purposes/{key}", response_model=PurposeOut, summary="Read one purpose")
async def get_purpose(key: str, uow: ReadUow) -> Purpose:
    """One purpose of the caller's tenant."""
    return await catalogue.get_purpose(uow, key)


@router.patch("/purposes/{key}", response_model=PurposeOut, summary="Change a purpose")
async def update_purpose(key: str, body: PurposePatch, uow: AdminUow) -> Purpose:
    """Change the name, description, categories, validity, minimum age or GPC coverage of a purpose."""
    return await catalogue.update_purpose(uow, key, body)


@router.post(
    "/purposes/{key}/notices", status_code=201, response_model=NoticeOut, summary="Publish a new notice version"
)
async def publish_notice(key: str, body: NoticeIn, uow: AdminUow) -> NoticeVersion:
    """Publish the next, immutable version; ``material: true`` makes grants under earlier versions need renewal."""
    return await catalogue.publish_notice(uow, key, body)


@router.get("/purposes/{key}/notices", response_model=list[NoticeOut], summary="List the notice versions of a purpose")
async def list_notices(key: str, uow: ReadUow) -> list[NoticeVersion]:
    """Every published version, oldest first."""
    return await catalogue.list_notices(uow, key)


@router.put("/controller", response_model=ControllerOut, summary="Set the controller named on receipts")
async def set_controller(body: ControllerIn, uow: AdminUow) -> ControllerProfile:
    """Create or replace the tenant's controller profile."""
    return await catalogue.set_controller(uow, body)


@router.get("/controller", response_model=ControllerOut, summary="Read the controller profile")
async def get_controller(uow: ReadUow) -> ControllerProfile:
    """The tenant's controller profile."""
    return await catalogue.get_controller(uow)
