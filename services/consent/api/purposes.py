"""Endpoints of the purpose catalogue, notice versions and the controller profile."""

from __future__ import annotations

from fastapi import APIRouter

from services.consent.api.deps import Admin, Reader
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
from shared.runtime.db import SessionDep
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.service import ClockDep

router = APIRouter(prefix="/v1", tags=["purposes"], responses=PROBLEM_RESPONSES)


@router.post("/purposes", status_code=201, response_model=PurposeOut, summary="Add a purpose to the catalogue")
async def create_purpose(body: PurposeIn, session: SessionDep, clock: ClockDep, principal: Admin) -> Purpose:
    """A purpose with its lawful basis, data categories, validity, minimum age and GPC coverage (409 if it exists)."""
    return await catalogue.create_purpose(session, principal, body, clock)


@router.get("/purposes", response_model=list[PurposeOut], summary="List the purpose catalogue")
async def list_purposes(session: SessionDep, principal: Reader) -> list[Purpose]:
    """Every purpose of the caller's tenant."""
    return await all_purposes(session, principal.tenant_id)


@router.get("/purposes/{key}", response_model=PurposeOut, summary="Read one purpose")
async def get_purpose(key: str, session: SessionDep, principal: Reader) -> Purpose:
    """One purpose of the caller's tenant."""
    return await catalogue.get_purpose(session, principal.tenant_id, key)


@router.patch("/purposes/{key}", response_model=PurposeOut, summary="Change a purpose")
async def update_purpose(
    key: str, body: PurposePatch, session: SessionDep, clock: ClockDep, principal: Admin
) -> Purpose:
    """Change the name, description, categories, validity, minimum age or GPC coverage of a purpose."""
    return await catalogue.update_purpose(session, principal, key, body, clock)


@router.post(
    "/purposes/{key}/notices", status_code=201, response_model=NoticeOut, summary="Publish a new notice version"
)
async def publish_notice(
    key: str, body: NoticeIn, session: SessionDep, clock: ClockDep, principal: Admin
) -> NoticeVersion:
    """Publish the next, immutable version; ``material: true`` makes grants under earlier versions need renewal."""
    return await catalogue.publish_notice(session, principal, key, body, clock)


@router.get("/purposes/{key}/notices", response_model=list[NoticeOut], summary="List the notice versions of a purpose")
async def list_notices(key: str, session: SessionDep, principal: Reader) -> list[NoticeVersion]:
    """Every published version, oldest first."""
    return await catalogue.list_notices(session, principal.tenant_id, key)


@router.put("/controller", response_model=ControllerOut, summary="Set the controller named on receipts")
async def set_controller(
    body: ControllerIn, session: SessionDep, clock: ClockDep, principal: Admin
) -> ControllerProfile:
    """Create or replace the tenant's controller profile."""
    return await catalogue.set_controller(session, principal, body, clock)


@router.get("/controller", response_model=ControllerOut, summary="Read the controller profile")
async def get_controller(session: SessionDep, principal: Reader) -> ControllerProfile:
    """The tenant's controller profile."""
    return await catalogue.get_controller(session, principal.tenant_id)
