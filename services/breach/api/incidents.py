"""Endpoints of the incident register: report, read, change, close, assess, attach people."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from services.breach.api.deps import ReadUow, WriteUow
from services.breach.domain.incidents import IncidentStatus
from services.breach.models import Assessment, TimelineEntry
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
from services.breach.service import assessments, deadlines, incidents
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/incidents", tags=["incidents"], responses=PROBLEM_RESPONSES)


@router.post("", status_code=201, response_model=IncidentOut, summary="Report a breach")
async def report_incident(body: IncidentIn, uow: WriteUow) -> IncidentOut:
    """Enter a breach in the register; its clocks start at `aware_at` for every jurisdiction."""
    return await incidents.report(uow, body)


@router.get("", response_model=list[IncidentOut], summary="List the register")
async def list_incidents(
    uow: ReadUow,
    status: Annotated[
        list[IncidentStatus] | None, Query(max_length=8, description="one or more statuses (repeat the parameter)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="incidents to skip: the next page")] = 0,
    order: Annotated[
        Literal["aware", "clock"],
        Query(description="aware: most recent awareness first; clock: the soonest open clock first"),
    ] = "aware",
) -> list[IncidentOut]:
    """The tenant's incidents, most recent awareness first; ``status`` may be repeated (any of them).

    ``order=clock`` puts first the incident whose open clock falls due soonest (those with none running
    last): a dashboard's short list of what needs a person then keeps the most urgent.
    """
    statuses = [s.value for s in status or []]
    found = await incidents.list_incidents(uow, statuses, limit, offset, by_clock=order == "clock")
    return await incidents.views(uow, found)


@router.get("/{incident_id}", response_model=IncidentOut, summary="Read an incident with its clocks")
async def get_incident(incident_id: uuid.UUID, uow: ReadUow) -> IncidentOut:
    """One incident, its deadlines and how many people are attached."""
    return await incidents.view(uow, await incidents.get(uow, incident_id))


@router.patch("/{incident_id}", response_model=IncidentOut, summary="Change an incident's facts")
async def update_incident(incident_id: uuid.UUID, body: IncidentPatch, uow: WriteUow) -> IncidentOut:
    """Record what the investigation learnt; every change goes to the timeline and the clocks follow."""
    return await incidents.view(uow, await incidents.update(uow, incident_id, body))


@router.post("/{incident_id}/close", response_model=IncidentOut, summary="Close an incident")
async def close_incident(incident_id: uuid.UUID, body: CloseIn, uow: WriteUow) -> IncidentOut:
    """Close the incident: open clocks stop; it stays in the register."""
    return await incidents.view(uow, await incidents.close(uow, incident_id, body.reason))


@router.get("/{incident_id}/timeline", response_model=list[TimelineOut], summary="Every change of an incident")
async def get_timeline(incident_id: uuid.UUID, uow: ReadUow) -> list[TimelineEntry]:
    """The incident's timeline, oldest first."""
    return await incidents.timeline(uow, incident_id)


@router.get("/{incident_id}/deadlines", response_model=list[DeadlineOut], summary="The incident's legal clocks")
async def get_deadlines(incident_id: uuid.UUID, uow: ReadUow) -> list[DeadlineOut]:
    """Every deadline, earliest first, with its rule, citation and status."""
    return await deadlines.deadlines(uow, incident_id)


@router.post(
    "/{incident_id}/assessments", status_code=201, response_model=AssessmentOut, summary="Assess severity (ENISA)"
)
async def assess_incident(incident_id: uuid.UUID, body: AssessmentIn, uow: WriteUow) -> Assessment:
    """Score with SE = DPC × EI + CB, decide whom to notify, and recompute the clocks for that risk."""
    return await assessments.assess(uow, incident_id, body)


@router.post("/{incident_id}/decision", status_code=201, response_model=AssessmentOut, summary="Override the decision")
async def override_decision(incident_id: uuid.UUID, body: OverrideIn, uow: WriteUow) -> Assessment:
    """Set the risk level by judgement; a documented reason is required and kept with the score."""
    return await assessments.override(uow, incident_id, body)


@router.get("/{incident_id}/assessments", response_model=list[AssessmentOut], summary="Assessment history")
async def list_assessments(incident_id: uuid.UUID, uow: ReadUow) -> list[Assessment]:
    """Every assessment and override, oldest first; the last one is in force."""
    return await assessments.history(uow, incident_id)


@router.post(
    "/{incident_id}/affected-subjects", response_model=SubjectsOut, summary="Attach people affected (references)"
)
async def attach_subjects(incident_id: uuid.UUID, body: SubjectsIn, uow: WriteUow) -> SubjectsOut:
    """Attach keyed subject references (never raw identifiers); duplicates are ignored."""
    added, total = await incidents.attach_subjects(uow, incident_id, body.subject_refs)
    return SubjectsOut(added=added, total=total)
