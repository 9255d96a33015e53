"""The incident's timeline: every change of an incident, kept beside the audit chain."""

from __future__ import annotations

from typing import Any

from services.breach.models import Incident, TimelineEntry
from services.breach.service import Uow
from shared.runtime.db import as_json


def note(uow: Uow, incident: Incident, kind: str, detail: dict[str, Any] | None = None) -> None:
    """Append a change to the incident's timeline and to the audit chain, by the unit's actor."""
    detail = as_json(detail or {})
    now = uow.now()
    uow.session.add(
        TimelineEntry(
            tenant_id=incident.tenant_id, incident_id=incident.id, at=now, actor=uow.actor, kind=kind, detail=detail
        )
    )
    uow.audit(f"breach.{kind}", "incident", incident.id, detail)
    incident.updated_at = now
    uow.session.add(incident)
