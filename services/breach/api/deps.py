"""Dependency aliases of the breach API: the request's unit of work, by the scope the caller must hold."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.breach.service import Uow
from shared.runtime.uow import public_unit_of_work, unit_of_work

ReadUow = Annotated[Uow, Depends(unit_of_work("breach:read", read_only=True))]
WriteUow = Annotated[Uow, Depends(unit_of_work("breach:write"))]
AdminUow = Annotated[Uow, Depends(unit_of_work("breach:admin"))]
# The notify service claiming a message's address and values: its own scope, which breach:read does not grant.
ClaimUow = Annotated[Uow, Depends(unit_of_work("notify:claim"))]
# A customer at an approval link: no token, the link's signed token is the credential.
LinkUow = Annotated[Uow, Depends(public_unit_of_work("notice-approval-link"))]
