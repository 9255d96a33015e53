"""Dependencies of the consent endpoints: settings, the check pool and scoped principals."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from services.consent.settings import ConsentSettings
from shared.rules.errors import ServiceUnavailable
from shared.runtime.auth import Principal, require
from shared.runtime.service import settings_of


# Dependencies are ``async def``: FastAPI runs a plain ``def`` dependency in a worker thread, a hop per request.
async def direct_pool_of(request: Request) -> asyncpg.Pool:
    """The asyncpg pool of the hot paths (checks, single decisions): one statement per request, no ORM."""
    pool: asyncpg.Pool | None = getattr(request.app.state, "direct_pool", None)
    if pool is None:
        raise ServiceUnavailable("The consent service is starting.")
    return pool


SettingsDep = Annotated[ConsentSettings, Depends(settings_of)]
DirectPoolDep = Annotated[asyncpg.Pool, Depends(direct_pool_of)]
Reader = Annotated[Principal, Depends(require("consent:read"))]
Writer = Annotated[Principal, Depends(require("consent:write"))]
Admin = Annotated[Principal, Depends(require("consent:admin"))]
