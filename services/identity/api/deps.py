"""The dependencies of the identity routes, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.identity.service import Uow
from shared.rules.scopes import EVIDENCE_READ
from shared.runtime.uow import public_unit_of_work, unit_of_work

ReadUow = Annotated[Uow, Depends(unit_of_work("identity:read", read_only=True))]
AdminUow = Annotated[Uow, Depends(unit_of_work("identity:admin"))]
# A privops service having a document signed with the tenant's key.
SignUow = Annotated[Uow, Depends(unit_of_work("identity:sign"))]
# Whoever may hand a customer or an auditor the tenant's evidence pack.
EvidenceUow = Annotated[Uow, Depends(unit_of_work(EVIDENCE_READ))]
# The platform operator: token keys, and clients of every tenant.
PlatformUow = Annotated[Uow, Depends(unit_of_work("platform:admin"))]
# Routes without a bearer token (JWKS, discovery, the token endpoint, the login form) resolve their tenant.
Public = Annotated[Uow, Depends(public_unit_of_work("public"))]
