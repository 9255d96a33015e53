"""The identity service as a data store: it holds no data about a tenant's data subjects.

Clients are machines; keys and signatures carry no identifier of a person.
"""

from __future__ import annotations

from typing import Any

from services.identity.service import Uow
from shared.bus.store import StoreResult, TaskInput

SYSTEM = "privops-identity"
NOTHING = StoreResult("no_data", detail="the identity service holds no data about data subjects")


class IdentityStore:
    """DSAR actions: nothing is held, so nothing to act on."""

    async def erase(self, uow: Uow, task: TaskInput) -> StoreResult:
        """Nothing to erase."""
        return NOTHING

    async def export(self, uow: Uow, task: TaskInput) -> list[dict[str, Any]]:
        """Nothing to export."""
        return []

    async def restrict(self, uow: Uow, task: TaskInput, lift: bool) -> StoreResult:
        """Nothing to restrict."""
        return NOTHING

    async def object(self, uow: Uow, task: TaskInput) -> StoreResult:
        """Nothing is processed about data subjects."""
        return NOTHING

    async def rectify(self, uow: Uow, task: TaskInput) -> StoreResult:
        """Nothing to correct."""
        return NOTHING
