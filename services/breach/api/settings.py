"""Endpoints of the tenant's notice settings: the contact point, the authorities, the customers, the locale."""

from __future__ import annotations

from fastapi import APIRouter

from services.breach.api.deps import AdminUow, ReadUow
from services.breach.schemas.settings import SettingsIn, SettingsOut
from services.breach.service import settings
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/settings", tags=["settings"], responses=PROBLEM_RESPONSES)


@router.get("", response_model=SettingsOut, summary="Read the notice settings")
async def get_settings(uow: ReadUow) -> SettingsOut:
    """The contact point, the authorities' and customers' contacts and the default locale (empty until set)."""
    return await settings.view(uow)


@router.put("", response_model=SettingsOut, summary="Replace the notice settings")
async def put_settings(body: SettingsIn, uow: AdminUow) -> SettingsOut:
    """Set whom notices name (GDPR Art. 33(3)(b)) and whom they go to; drafts made from now on use them."""
    return await settings.replace(uow, body)
