"""Shared pieces of the breach use cases: loading a tenant's incident, the timeline, staging events."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.breach.models import Incident, TimelineEntry
from services.breach.settings import BreachSettings
from shared.bus.outbox import stage
from shared.events.catalogue import Event
from shared.rules.clock import Clock
from shared.rules.errors import NotFound
from shared.runtime import audit
from shared.runtime.auth import Principal
from shared.runtime.db import as_json
from shared.runtime.settings import ServiceSettings


def actor_name(actor: Principal | str) -> str:
    """Who acted: a token's subject, or a system actor such as ``job:breach.deadlines``."""
    return actor.subject if isinstance(actor, Principal) else actor


def breach_settings(settings: ServiceSettings) -> BreachSettings:
    """The breach service's own settings (the framework hands out the base class)."""
    assert isinstance(settings, BreachSettings), type(settings)
    return settings


async def load_incident(
    session: AsyncSession, tenant_id: str, incident_id: uuid.UUID, *, lock: bool = False
) -> Incident:
    """An incident of the tenant, optionally locked for update; another tenant's is not found."""
    statement = select(Incident).where(col(Incident.id) == incident_id, col(Incident.tenant_id) == tenant_id)
    if lock:
        statement = statement.with_for_update()
    incident = (await session.exec(statement)).first()
    if incident is None:
        raise NotFound(f"No incident {incident_id}.")
    return incident


def note(
    session: AsyncSession,
    incident: Incident,
    *,
    actor: Principal | str,
    kind: str,
    clock: Clock,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append a change to the incident's timeline and to the audit chain."""
    detail = as_json(detail or {})
    session.add(
        TimelineEntry(
            tenant_id=incident.tenant_id,
            incident_id=incident.id,
            at=clock.now(),
            actor=actor_name(actor),
            kind=kind,
            detail=detail,
        )
    )
    audit.record(
        session,
        tenant_id=incident.tenant_id,
        actor=actor,
        action=f"breach.{kind}",
        entity_type="incident",
        entity_id=incident.id,
        clock=clock,
        detail=detail,
    )
    incident.updated_at = clock.now()
    session.add(incident)


async def publish(
    session: AsyncSession,
    event: Event,
    *,
    incident: Incident,
    clock: Clock,
    settings: ServiceSettings,
    subject: str | None = None,
) -> None:
    """Stage an event about an incident (partitioned by the incident unless a subject is given)."""
    await stage(
        session,
        event,
        tenant_id=incident.tenant_id,
        subject=subject or str(incident.id),
        clock=clock,
        service=settings.service_name,
    )
