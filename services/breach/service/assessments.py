"""Severity assessment (ENISA, with inputs and rationale) and the notification decision, overridable with a reason."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import col, select

from services.breach.domain.incidents import IncidentStatus, require_open
from services.breach.domain.severity import (
    BreachCircumstances,
    ContextAdjustment,
    DataSet,
    IndividualsExemption,
    NotificationDecision,
    SeverityAssessment,
    assess_severity,
    decide_notification,
    override_decision,
)
from services.breach.models import Assessment, Incident
from services.breach.schemas import AssessmentIn, ExemptionIn, OverrideIn
from services.breach.service import Uow
from services.breach.service.deadlines import sync_deadlines
from services.breach.service.timeline import note
from shared.events.catalogue.breach import BreachAssessed
from shared.runtime.repository import get_or_404


def _score(inputs: dict[str, Any]) -> SeverityAssessment:
    """Run ENISA on stored (or submitted) inputs."""
    data_sets = [
        DataSet(
            category=d["category"],
            adjustments=tuple(ContextAdjustment(a["factor"], a["delta"], a["reason"]) for a in d["adjustments"]),
            description=d.get("description", ""),
        )
        for d in inputs["data_sets"]
    ]
    return assess_severity(data_sets, inputs["ease_of_identification"], BreachCircumstances(**inputs["circumstances"]))


def _exemption(body: ExemptionIn | None) -> IndividualsExemption | None:
    return IndividualsExemption(body.ground, body.reason) if body else None


async def assess(uow: Uow, incident_id: uuid.UUID, body: AssessmentIn) -> Assessment:
    """Score the breach with ENISA, decide whom to notify, and recompute the clocks for that risk."""
    incident = await get_or_404(uow, Incident, incident_id, lock=True)
    require_open(incident.status)
    inputs = body.model_dump(mode="json", exclude={"rationale", "exemption"})
    assessment = _score(inputs)
    decision = decide_notification(assessment, exemption=_exemption(body.exemption))
    return await _record(uow, incident, decision, inputs, assessor_rationale=body.rationale)


async def override(uow: Uow, incident_id: uuid.UUID, body: OverrideIn) -> Assessment:
    """Set the risk by human judgement; the documented reason and the decider are kept with the score it replaces."""
    incident = await get_or_404(uow, Incident, incident_id, lock=True)
    require_open(incident.status)
    latest = await latest_assessment(uow, incident)
    scored = _score(latest.inputs) if latest and latest.inputs else None
    decision = override_decision(
        scored, body.risk, reason=body.reason, decided_by=uow.actor, exemption=_exemption(body.exemption)
    )
    return await _record(uow, incident, decision, latest.inputs if latest else {})


async def latest_assessment(uow: Uow, incident: Incident) -> Assessment | None:
    """The decision in force: the newest assessment or override."""
    rows = await uow.session.exec(
        select(Assessment)
        .where(col(Assessment.incident_id) == incident.id)
        .order_by(col(Assessment.seq).desc())
        .limit(1)
    )
    return rows.first()


async def history(uow: Uow, incident_id: uuid.UUID) -> list[Assessment]:
    """Every assessment and override of an incident, oldest first."""
    await get_or_404(uow, Incident, incident_id)
    rows = await uow.session.exec(
        select(Assessment).where(col(Assessment.incident_id) == incident_id).order_by(col(Assessment.seq))
    )
    return list(rows.all())


async def _record(
    uow: Uow,
    incident: Incident,
    decision: NotificationDecision,
    inputs: dict[str, Any],
    *,
    assessor_rationale: str | None = None,
) -> Assessment:
    scored = decision.assessment
    row = Assessment(
        tenant_id=incident.tenant_id,
        incident_id=incident.id,
        basis=decision.basis.value,
        inputs=inputs,
        dpc=scored.dpc if scored else None,
        ei=scored.ei if scored else None,
        cb=scored.cb if scored else None,
        score=scored.score if scored else None,
        severity_level=scored.level.value if scored else None,
        risk=decision.risk.value,
        notify_authority=decision.notify_authority,
        notify_individuals=decision.notify_individuals,
        public_communication=decision.public_communication,
        rationale=decision.rationale,
        assessor_rationale=assessor_rationale,
        override_reason=decision.override_reason,
        decided_by=uow.actor,
        decided_at=uow.now(),
    )
    uow.session.add(row)
    incident.risk = decision.risk.value
    incident.notify_authority, incident.notify_individuals = decision.notify_authority, decision.notify_individuals
    if incident.status == IncidentStatus.OPEN:
        incident.status = IncidentStatus.ASSESSED
    note(
        uow,
        incident,
        f"assessment.{decision.basis.value}",
        {"risk": row.risk, "score": row.score, "level": row.severity_level, "reason": row.override_reason},
    )
    await sync_deadlines(uow, incident)
    await uow.stage(
        BreachAssessed(
            incident_id=incident.id,
            risk=decision.risk.value,
            severity_level=row.severity_level,
            score=row.score,
            notify_authority=decision.notify_authority,
            notify_individuals=decision.notify_individuals,
            basis=decision.basis.value,
        ),
        str(incident.id),
    )
    await uow.session.flush()
    return row
