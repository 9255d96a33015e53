"""The deadline table: legal clocks computed from one awareness time, their alerts, and the job that fires them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

import structlog
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.breach.domain import clocks
from services.breach.domain.clocks import Audience, BreachScope, ClockSettings, Jurisdiction, escalation_points
from services.breach.domain.incidents import Sector
from services.breach.domain.severity import RiskLevel
from services.breach.models import Deadline, DeadlineAlert, Incident
from services.breach.schemas import DeadlineOut
from services.breach.service import Job, Uow
from services.breach.service.timeline import note
from services.breach.settings import BreachSettings
from shared.events.catalogue.breach import BreachNotificationDue, BreachNotificationOverdue
from shared.runtime.jobs import claim
from shared.runtime.repository import find_in, get_or_404
from shared.runtime.views import from_row

log = structlog.get_logger("privops.breach.deadlines")

DEADLINES_JOB = "breach.deadlines"

ESCALATION, OVERDUE = "escalation", "overdue"
OPEN, MET, NOT_APPLICABLE, CANCELLED = "open", "met", "not_applicable", "cancelled"


def to_domain(row: Deadline) -> clocks.Deadline:
    """The pure-domain view of a deadline row."""
    return clocks.Deadline(
        jurisdiction=Jurisdiction(row.jurisdiction),
        audience=Audience(row.audience),
        recipient=row.recipient,
        starts_at=row.starts_at,
        due_at=row.due_at,
        target_at=row.target_at,
        rule=row.rule,
        citation=row.citation,
        verify=row.verify,
        provisional=row.provisional,
        condition=row.condition,
    )


def scope_of(incident: Incident, met: Iterable[Deadline] = ()) -> BreachScope:
    """What the clocks depend on, from the incident (the total count stands for each jurisdiction: the safe side)."""
    count = incident.approximate_subjects
    return BreachScope(
        jurisdictions=frozenset(Jurisdiction(j) for j in incident.jurisdictions),
        role=clocks.Role(incident.role),
        nis2_entity=Sector.NIS2 in incident.sectors,
        dora_entity=Sector.DORA in incident.sectors,
        hipaa_in_scope=Sector.HIPAA in incident.sectors,
        risk=RiskLevel(incident.risk) if incident.risk else None,
        affected={Jurisdiction(j): count for j in incident.jurisdictions} if count is not None else {},
        determined_at=incident.determined_at,
        sent={(Jurisdiction(d.jurisdiction), Audience(d.audience)): d.met_at for d in met if d.met_at is not None},
    )


def offsets(settings: BreachSettings) -> tuple[timedelta, ...]:
    """The configured escalation points before each deadline."""
    return tuple(timedelta(hours=hours) for hours in settings.escalation_hours)


async def deadlines(uow: Uow, incident_id: uuid.UUID) -> list[DeadlineOut]:
    """Every deadline of one of the tenant's incidents, earliest target first (404 when not the tenant's)."""
    incident = await get_or_404(uow, Incident, incident_id)
    return deadline_views(uow, await find_in(uow, Deadline, "incident_id", [incident.id], order_by=("target_at",)))


def deadline_views(uow: Uow, rows: Iterable[Deadline]) -> list[DeadlineOut]:
    """The clocks as they read now: an open one past its hard limit is overdue (the stored row is left as it is)."""
    now = uow.now()
    return [from_row(DeadlineOut, row, status=clocks.status_at(row.status, row.due_at, now)) for row in rows]


async def deadlines_of(session: AsyncSession, incident: Incident) -> list[Deadline]:
    """Every deadline row of an incident, earliest target first."""
    rows = await session.exec(
        select(Deadline).where(col(Deadline.incident_id) == incident.id).order_by(col(Deadline.target_at))
    )
    return list(rows.all())


async def sync_deadlines(uow: Uow, incident: Incident, *, new: bool = False) -> list[Deadline]:
    """Recompute the incident's clocks and their alerts; alerts already fired stay fired (each fires once).

    ``new``: the incident was reported in this unit of work, so it has no clock or alert to read yet.
    """
    session, settings = uow.session, uow.settings
    existing = {} if new else {(d.jurisdiction, d.audience): d for d in await deadlines_of(session, incident)}
    clock_settings = ClockSettings(
        contract_notice_hours=settings.contract_notice_hours,
        undue_delay_target_hours=settings.undue_delay_target_hours,
    )
    met = [d for d in existing.values() if d.status == MET]
    computed = clocks.compute_deadlines(incident.aware_at, scope_of(incident, met), clock_settings)
    keep: set[tuple[str, str]] = set()
    for deadline in computed:
        key = (deadline.jurisdiction.value, deadline.audience.value)
        keep.add(key)
        row = existing.get(key) or Deadline(
            tenant_id=incident.tenant_id,
            incident_id=incident.id,
            jurisdiction=key[0],
            audience=key[1],
            recipient=deadline.recipient,
            starts_at=deadline.starts_at,
            target_at=deadline.target_at,
            rule=deadline.rule,
            citation=deadline.citation,
        )
        existing[key] = row
        row.recipient, row.rule, row.citation = deadline.recipient, deadline.rule, deadline.citation
        row.starts_at, row.due_at, row.target_at = deadline.starts_at, deadline.due_at, deadline.target_at
        row.verify, row.provisional, row.condition = deadline.verify, deadline.provisional, deadline.condition
        if row.status == NOT_APPLICABLE:
            row.status = OPEN
        session.add(row)
    for key, row in existing.items():
        if key not in keep and row.status == OPEN:
            row.status = NOT_APPLICABLE  # e.g. the assessment found the risk unlikely: no authority clock
            session.add(row)
    await session.flush()
    # Every alert of the incident's clocks in one read (none yet for a new incident), not one read per clock.
    alerts: dict[uuid.UUID, list[DeadlineAlert]] = {row.id: [] for row in existing.values()}
    if not new and alerts:
        query = select(DeadlineAlert).where(col(DeadlineAlert.deadline_id).in_(list(alerts)))
        for alert in (await session.exec(query)).all():
            alerts[alert.deadline_id].append(alert)
    points = offsets(settings)
    for row in existing.values():
        await _sync_alerts(session, row, alerts[row.id], points)
    incident.next_clock_at = next_clock(existing.values())
    session.add(incident)
    return sorted(existing.values(), key=lambda d: d.target_at)


def next_clock(rows: Iterable[Deadline]) -> datetime | None:
    """When the soonest open clock falls due: its hard limit, else its target ("without undue delay")."""
    return min((row.due_at or row.target_at for row in rows if row.status == OPEN), default=None)


async def _sync_alerts(
    session: AsyncSession, row: Deadline, current: list[DeadlineAlert], points: tuple[timedelta, ...]
) -> None:
    alerts = {(a.kind, a.offset_s): a for a in current}
    wanted: dict[tuple[str, int], datetime] = {}
    if row.status == OPEN:
        for point in escalation_points([to_domain(row)], points):
            wanted[(ESCALATION, int(point.offset.total_seconds()))] = point.at
        if row.due_at is not None:
            wanted[(OVERDUE, 0)] = row.due_at
    for key, alert in alerts.items():
        if alert.fired_at is None and key not in wanted:
            await session.delete(alert)
    for (kind, offset_s), fire_at in wanted.items():
        alert = alerts.get((kind, offset_s)) or DeadlineAlert(
            tenant_id=row.tenant_id, deadline_id=row.id, kind=kind, offset_s=offset_s, fire_at=fire_at
        )
        if alert.fired_at is None:
            alert.fire_at = fire_at
            session.add(alert)


async def mark_met(session: AsyncSession, rows: Iterable[Deadline], *, at: datetime, notice_id: object) -> None:
    """Record that notices met these deadlines; their pending alerts are dropped."""
    for row in rows:
        row.status, row.met_at, row.met_by_notice_id = MET, at, notice_id  # type: ignore[assignment]
        session.add(row)
        await session.exec(
            delete(DeadlineAlert).where(
                col(DeadlineAlert.deadline_id) == row.id,
                col(DeadlineAlert.fired_at).is_(None),
            )
        )


async def cancel_open(session: AsyncSession, incident: Incident) -> None:
    """Stop every open clock of a closed incident."""
    for row in await deadlines_of(session, incident):
        if row.status == OPEN:
            row.status = CANCELLED
            session.add(row)
    incident.next_clock_at = None
    session.add(incident)


async def fire_due_alerts(ctx: Job) -> int:
    """Emit each due escalation and overdue alert once (rows claimed with FOR UPDATE SKIP LOCKED)."""
    async with ctx.database.session() as session:
        now = ctx.clock.now()
        open_deadlines = select(Deadline.id).where(col(Deadline.status) == OPEN)
        statement = (
            select(DeadlineAlert)
            .where(
                col(DeadlineAlert.fired_at).is_(None),
                col(DeadlineAlert.fire_at) <= now,
                col(DeadlineAlert.deadline_id).in_(open_deadlines),
            )
            .order_by(col(DeadlineAlert.fire_at))
        )
        fired = 0
        for alert in await claim(session, statement, limit=200):
            row = await session.get(Deadline, alert.deadline_id)
            incident = await session.get(Incident, row.incident_id) if row else None
            if row is None or incident is None:
                continue
            if alert.kind == OVERDUE and not clocks.is_overdue(to_domain(row), now):
                continue  # exactly at the limit is not yet late
            alert.fired_at = now
            session.add(alert)
            if alert.kind == ESCALATION and now > row.target_at:
                continue  # a missed escalation point is moot once the target has passed; overdue says it
            await _emit(ctx.unit_of_work(session, incident.tenant_id, f"job:{DEADLINES_JOB}"), alert, row, incident)
            fired += 1
        return fired


async def _emit(uow: Uow, alert: DeadlineAlert, row: Deadline, incident: Incident) -> None:
    common = {
        "incident_id": incident.id,
        "deadline_id": row.id,
        "jurisdiction": row.jurisdiction,
        "audience": row.audience,
        "recipient": row.recipient,
        "due_at": row.due_at,
        "target_at": row.target_at,
        "citation": row.citation,
    }
    if alert.kind == OVERDUE:
        event: BreachNotificationDue | BreachNotificationOverdue = BreachNotificationOverdue(**common)
        kind = "deadline.overdue"
    else:
        event = BreachNotificationDue(**common, hours_left=alert.offset_s / 3600)
        kind = "deadline.escalated"
    await uow.stage(event, str(incident.id))
    note(
        uow,
        incident,
        kind,
        {
            "deadline_id": row.id,
            "jurisdiction": row.jurisdiction,
            "audience": row.audience,
            "hours_left": alert.offset_s / 3600,
        },
    )
    log.info("breach.deadline_alert", kind=alert.kind, incident_id=str(incident.id), audience=row.audience)
