"""Dependency aliases of the retention API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.retention.settings import RetentionSettings
from shared.runtime.auth import Principal, require
from shared.runtime.service import settings_of

Reader = Annotated[Principal, Depends(require("retention:read"))]
Writer = Annotated[Principal, Depends(require("retention:write"))]
Admin = Annotated[Principal, Depends(require("retention:admin"))]


SettingsDep = Annotated[RetentionSettings, Depends(settings_of)]
