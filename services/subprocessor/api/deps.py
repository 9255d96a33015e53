"""Dependencies shared by the subprocessor routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.subprocessor.settings import SubprocessorSettings
from shared.runtime.auth import Principal, require
from shared.runtime.service import settings_of

SettingsDep = Annotated[SubprocessorSettings, Depends(settings_of)]
Reader = Annotated[Principal, Depends(require("subprocessor:read"))]
Writer = Annotated[Principal, Depends(require("subprocessor:write"))]
