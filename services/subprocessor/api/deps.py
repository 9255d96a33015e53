"""Dependencies shared by the subprocessor routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.subprocessor.settings import SubprocessorSettings
from shared.auth import Principal, require


async def settings_of(request: Request) -> SubprocessorSettings:
    """The service's settings."""
    settings: SubprocessorSettings = request.app.state.settings
    return settings


SettingsDep = Annotated[SubprocessorSettings, Depends(settings_of)]
Reader = Annotated[Principal, Depends(require("subprocessor:read"))]
Writer = Annotated[Principal, Depends(require("subprocessor:write"))]
