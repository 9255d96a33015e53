"""Endpoints of the incident register: report, read, change, close, assess, attach people."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.breach.domain.incidents import IncidentStatus
from services.breach.models import Assessment, Incident, TimelineEntry
from services.breach.schemas import (
    AssessmentIn,
    AssessmentOut,
    CloseIn,
    DeadlineOut,
    IncidentIn,
    IncidentOut,
    IncidentPatch,
    OverrideIn,
    SubjectsIn,
    SubjectsOut,
    TimelineOut,
)
from services.breach.service import assessments, incidents
from services.breach.service.common import load_incident
from services.breach.service.deadlines import deadlines_of
from services.breach.settings import BreachSettings
from shared.runtime.auth import Principal, require
from shared.runtime.db import SessionDep
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.service import ClockDep, settings_of

router = APIRouter(prefix="/v1/incidents", tags=["incidents"], responses=PROBLEM_RESPONSES)

Reader = Annotated[Principal, Depends(require("breach:read"))]
Writer = Annotated[Principal, Depends(require("breach:write"))]


SettingsDep = Annotated[BreachSettings, Depends(settings_of)]


@router.post("", status_code=201, response_model=IncidentOut, summary="Report a breach")
async def report_incident(
    body: IncidentIn, session: SessionDep, clock: ClockDep, principal: Writer, settings: SettingsDep
) -> IncidentOut:
    """Enter a breach in the register; its clocks start at `aware_at` for every jurisdiction."""
    incident = await incidents.report(session, body, principal=principal, clock=clock, settings=settings)
    return await incidents.view(session, incident)


@router.get("", response_model=list[IncidentOut], summary="List the register")
async def list_incidents(
    session: SessionDep,
    principal: Reader,
    status: IncidentStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[IncidentOut]:
    """The tenant's incidents, most recent awareness first."""
    found = await incidents.list_incidents(session, principal.tenant_id, status, limit)
    return [await incidents.view(session, incident) for incident in found]


@router.get("/{incident_id}", response_model=IncidentOut, summary="Read an incident with its clocks")
async def get_incident(incident_id: uuid.UUID, session: SessionDep, principal: Reader) -> IncidentOut:
    """One incident, its deadlines and how many people are attached."""
    return await incidents.view(session, await load_incident(session, principal.tenant_id, incident_id))


@router.patch("/{incident_id}", response_model=IncidentOut, summary="Change an incident's facts")
async def update_incident(
    incident_id: uuid.UUID,
    body: IncidentPatch,
    session: SessionDep,
    clock: ClockDep,
    principal: Writer,
    settings: SettingsDep,
) -> IncidentOut:
    """Record what the investigation learnt; every change goes to the timeline and the clocks follow."""
    incident = await incidents.update(session, incident_id, body, principal=principal, clock=clock, settings=settings)
    return await incidents.view(session, incident)


@router.post("/{incident_id}/close", response_model=IncidentOut, summary="Close an incident")
async def close_incident(
    incident_id: uuid.UUID,
    body: CloseIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Writer,
    settings: SettingsDep,
) -> IncidentOut:
    """Close the incident: open clocks stop; it stays in the register."""
    incident = await incidents.close(
        session, incident_id, body.reason, principal=principal, clock=clock, settings=settings
    )
    return await incidents.view(session, incident)


@router.get("/{incident_id}/timeline", response_model=list[TimelineOut], summary="Every change of an incident")
async def get_timeline(incident_id: uuid.UUID, session: SessionDep, principal: Reader) -> list[TimelineEntry]:
    """The incident's timeline, oldest first."""
    return await incidents.timeline(session, principal.tenant_id, incident_id)


@router.get("/{incident_id}/deadlines", response_model=list[DeadlineOut], summary="The incident's legal clocks")
async def get_deadlines(incident_id: uuid.UUID, session: SessionDep, principal: Reader) -> list[object]:
    """Every deadline, earliest first, with its rule, citation and status."""
    incident: Incident = await load_incident(session, principal.tenant_id, incident_id)
    return list(await deadlines_of(session, incident))


@router.post(
    "/{incident_id}/assessments", status_code=201, response_model=AssessmentOut, summary="Assess severity (ENISA)"
)
async def assess_incident(
    incident_id: uuid.UUID,
    body: AssessmentIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Writer,
    settings: SettingsDep,
) -> Assessment:
    """Score with SE = DPC × EI + CB, decide whom to notify, and recompute the clocks for that risk."""
    return await assessments.assess(session, incident_id, body, principal=principal, clock=clock, settings=settings)


@router.post("/{incident_id}/decision", status_code=201, response_model=AssessmentOut, summary="Override the decision")
async def override_decision(
    incident_id: uuid.UUID,
    body: OverrideIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Writer,
    settings: SettingsDep,
) -> Assessment:
    """Set the risk level by judgement; a documented reason is required and kept with the score."""
    return await assessments.override(session, incident_id, body, principal=principal, clock=clock, settings=settings)


@router.get("/{incident_id}/assessments", response_model=list[AssessmentOut], summary="Assessment history")
async def list_assessments(incident_id: uuid.UUID, session: SessionDep, principal: Reader) -> list[Assessment]:
    """Every assessment and override, oldest first; the last one is in force."""
    return await assessments.history(session, principal.tenant_id, incident_id)


@router.post(
    "/{incident_id}/affected-subjects", response_model=SubjectsOut, summary="Attach people affected (references)"
)
async def attach_subjects(
    incident_id: uuid.UUID, body: SubjectsIn, session: SessionDep, clock: ClockDep, principal: Writer
) -> SubjectsOut:
    """Attach keyed subject references (never raw identifiers); duplicates are ignored."""
    added, total = await incidents.attach_subjects(
        session, incident_id, body.subject_refs, principal=principal, clock=clock
    )
    return SubjectsOut(added=added, total=total)
