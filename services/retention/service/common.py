"""Small helpers the retention use cases share."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.bus.outbox import stage
from shared.events.catalogue import Event
from shared.rules.clock import Clock

SERVICE = "retention"


async def emit(session: AsyncSession, event: Event, *, tenant_id: str, subject: str | None, clock: Clock) -> None:
    """Stage ``event`` in the caller's transaction (it leaves through the outbox on commit)."""
    await stage(session, event, tenant_id=tenant_id, subject=subject, clock=clock, service=SERVICE)
