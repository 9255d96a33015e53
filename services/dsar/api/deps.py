"""The dependency aliases of the DSAR routes: a unit of work per scope, and one for download links."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.dsar.service import Uow
from shared.runtime.uow import public_unit_of_work, unit_of_work

ReadUow = Annotated[Uow, Depends(unit_of_work("dsar:read", read_only=True))]
WriteUow = Annotated[Uow, Depends(unit_of_work("dsar:write"))]
AdminUow = Annotated[Uow, Depends(unit_of_work("dsar:admin"))]
# What only an administrator may read (contract ends): no transaction, served as every other read.
AdminReadUow = Annotated[Uow, Depends(unit_of_work("dsar:admin", read_only=True))]
TaskUow = Annotated[Uow, Depends(unit_of_work("dsar:task"))]
# A store registers (and updates) its own system with its dsar:task client; people need dsar:write.
RegistrationUow = Annotated[Uow, Depends(unit_of_work("dsar:write", "dsar:task"))]
# The notify service's short-lived claim token: the one caller that reads a message's address and code.
ClaimUow = Annotated[Uow, Depends(unit_of_work("notify:claim"))]
# A download link's token is the credential; its package names the tenant.
LinkUow = Annotated[Uow, Depends(public_unit_of_work("download-link"))]
