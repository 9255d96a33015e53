"""Endpoints of the tenant's DSAR settings: the public-holiday calendar of each regime's clocks."""

from __future__ import annotations

from fastapi import APIRouter

from services.dsar.api.deps import AdminUow, ReadUow
from services.dsar.schemas.settings import SettingsIn, SettingsOut
from services.dsar.service import settings
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/settings", tags=["settings"], responses=PROBLEM_RESPONSES)


@router.get("", response_model=SettingsOut, summary="Read the DSAR settings")
async def get_settings(uow: ReadUow) -> SettingsOut:
    """The calendars the tenant chose and the one each regime's clocks use now (its default when none is set)."""
    return await settings.view(uow)


@router.put("", response_model=SettingsOut, summary="Replace the DSAR settings")
async def put_settings(body: SettingsIn, uow: AdminUow) -> SettingsOut:
    """Name the public holidays each regime's deadlines leave out (Reg. 1182/71 Art. 3(4), 11 CCR § 7001).

    Requests opened from now on use them; a request keeps the calendar it was opened with.
    """
    return await settings.replace(uow, body)
