"""Dependency aliases of the retention API: the request's unit of work at each level of access."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.retention.service import Uow
from shared.runtime.uow import unit_of_work

ReadUow = Annotated[Uow, Depends(unit_of_work("retention:read", read_only=True))]
WriteUow = Annotated[Uow, Depends(unit_of_work("retention:write"))]
AdminUow = Annotated[Uow, Depends(unit_of_work("retention:admin"))]
