"""The dependencies of the notify routes, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.notify.service import Uow
from shared.runtime.uow import unit_of_work

ReadUow = Annotated[Uow, Depends(unit_of_work("notify:read", read_only=True))]
WriteUow = Annotated[Uow, Depends(unit_of_work("notify:write"))]
AdminUow = Annotated[Uow, Depends(unit_of_work("notify:admin"))]
