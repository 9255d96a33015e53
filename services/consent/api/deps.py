"""Dependencies of the consent endpoints: units of work by scope, the bare principal and the direct pool."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from services.consent.service import Uow
from shared.rules.errors import ServiceUnavailable
from shared.runtime.auth import Principal, require
from shared.runtime.uow import public_unit_of_work, unit_of_work


# Dependencies are ``async def``: FastAPI runs a plain ``def`` dependency in a worker thread, a hop per request.
async def direct_pool_of(request: Request) -> asyncpg.Pool:
    """The asyncpg pool of the hot paths (``service/hot``): one statement per request, no ORM."""
    direct = getattr(request.app.state, "direct", None)
    if direct is None:
        raise ServiceUnavailable("The consent service is starting.")
    pool: asyncpg.Pool = direct.pool
    return pool


ReadUow = Annotated[Uow, Depends(unit_of_work("consent:read", read_only=True))]
# A read that writes as it reads: a receipt signed on first request, a person's history whose reading is audited.
RecordedReadUow = Annotated[Uow, Depends(unit_of_work("consent:read"))]
WriteUow = Annotated[Uow, Depends(unit_of_work("consent:write"))]
AdminUow = Annotated[Uow, Depends(unit_of_work("consent:admin"))]
# The notify service's short-lived claim token: the one caller that reads the address a receipt goes to.
ClaimUow = Annotated[Uow, Depends(unit_of_work("notify:claim"))]
# A receipt link's key is the credential; the path names the tenant.
LinkUow = Annotated[Uow, Depends(public_unit_of_work("receipt-link"))]
# Published notices, their history and the banner are public; an unsubscribe link's token is its credential.
PublicUow = Annotated[Uow, Depends(public_unit_of_work("public-notices"))]
# The check as of now needs no session: the caller and the direct pool only (no transaction to open).
Reader = Annotated[Principal, Depends(require("consent:read"))]
DirectPoolDep = Annotated[asyncpg.Pool, Depends(direct_pool_of)]
