"""What every use case needs: the session, settings, clock, tenant and actor, with stage/audit helpers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.dsar.settings import DsarSettings
from shared.bus.outbox import stage
from shared.events.catalogue import Event
from shared.rules.clock import Clock
from shared.runtime import audit


@dataclass
class Ctx:
    """One unit of work of one tenant, by one actor (a token subject, an event or a job)."""

    session: AsyncSession
    settings: DsarSettings
    clock: Clock
    tenant_id: str
    actor: str

    def now(self) -> datetime:
        """The current instant from the injected clock."""
        return self.clock.now()

    async def stage(self, event: Event, subject: str | None) -> None:
        """Stage ``event`` in the outbox, in this unit of work."""
        await stage(
            self.session,
            event,
            tenant_id=self.tenant_id,
            subject=subject,
            clock=self.clock,
            service=self.settings.service_name,
        )

    def audit(self, action: str, entity_type: str, entity_id: Any, detail: dict[str, Any] | None = None) -> None:
        """Append an audit entry (never with a raw identifier in ``detail``)."""
        audit.record(
            self.session,
            tenant_id=self.tenant_id,
            actor=self.actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            clock=self.clock,
            detail=detail,
        )

    def url(self, path: str) -> str:
        """An absolute URL of this service."""
        return self.settings.public_url.rstrip("/") + path
