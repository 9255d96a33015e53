"""Dependency aliases of the retention API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.retention.settings import RetentionSettings
from shared.auth import Principal, require

Reader = Annotated[Principal, Depends(require("retention:read"))]
Writer = Annotated[Principal, Depends(require("retention:write"))]
Admin = Annotated[Principal, Depends(require("retention:admin"))]


async def retention_settings(request: Request) -> RetentionSettings:
    """The service's settings."""
    settings: RetentionSettings = request.app.state.settings
    return settings


SettingsDep = Annotated[RetentionSettings, Depends(retention_settings)]
