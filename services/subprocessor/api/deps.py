"""The dependencies of the subprocessor routes, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.subprocessor.service import Uow
from shared.runtime.uow import public_unit_of_work, unit_of_work

ReadUow = Annotated[Uow, Depends(unit_of_work("subprocessor:read", read_only=True))]
WriteUow = Annotated[Uow, Depends(unit_of_work("subprocessor:write"))]
# Deciding an authority's demand and handing data over: the administrators only.
AdminUow = Annotated[Uow, Depends(unit_of_work("subprocessor:admin"))]
# The notify service claiming a notice email's address and values: its own scope, not subprocessor:read.
ClaimUow = Annotated[Uow, Depends(unit_of_work("notify:claim"))]
# Routes without a bearer token resolve their tenant themselves (the path, a notice's token).
Public = Annotated[Uow, Depends(public_unit_of_work("public"))]
