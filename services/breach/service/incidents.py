"""Incident register use cases: report, change, close, attach people, fill in customers from a subprocessor."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from enum import Enum
from typing import Any

from sqlalchemy import func, text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.breach.domain.incidents import IncidentStatus, Sector, check_times, reference_for, require_open
from services.breach.models import AffectedSubject, Deadline, Incident, TimelineEntry
from services.breach.schemas import IncidentIn, IncidentOut, IncidentPatch
from services.breach.service import Uow
from services.breach.service.contacts import chunks
from services.breach.service.contacts import purge as purge_contacts
from services.breach.service.deadlines import cancel_open, deadline_views, sync_deadlines
from services.breach.service.timeline import note
from shared.bus.outbox import notify_relay
from shared.events.catalogue.breach import BreachClosed, BreachReported, SubprocessorAffectedCustomersRequested
from shared.runtime.repository import counts_in, find_in, get_or_404
from shared.runtime.views import from_row

CLOCK_FIELDS = frozenset({"jurisdictions", "sectors", "role", "approximate_subjects", "determined_at"})
# The API's sector flags, kept in the incident's ``sectors`` list.
SECTOR_FLAGS = {"nis2_entity": Sector.NIS2, "dora_entity": Sector.DORA, "hipaa_in_scope": Sector.HIPAA}


def _with_flags(values: dict[str, Any], sectors: list[str]) -> dict[str, Any]:
    """The values with their sector flags folded into ``sectors``: true adds the sector, false removes it."""
    flags = {name: values.pop(name) for name in SECTOR_FLAGS if name in values}
    if flags:
        wanted = list(values["sectors"] or []) if "sectors" in values else list(sectors)
        for name, applies in flags.items():
            sector = SECTOR_FLAGS[name].value
            if applies and sector not in wanted:
                wanted.append(sector)
            elif applies is False and sector in wanted:
                wanted.remove(sector)
        values["sectors"] = wanted
    return values


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


UNNUMBERED = "BR-unnumbered"  # an incident's reference until its report takes its number, in the same transaction
# The next number of a tenant's year, in one statement: the row stays locked until the report commits.
_NEXT_NUMBER = text(
    "INSERT INTO incident_sequence (tenant_id, year, last) VALUES (:tenant, :year, 1) "
    "ON CONFLICT (tenant_id, year) DO UPDATE SET last = incident_sequence.last + 1 RETURNING last"
)


async def next_reference_number(session: AsyncSession, tenant_id: str, year: int) -> int:
    """The tenant's next incident number for ``year`` (1, 2, …): consecutive, never given twice."""
    connection = await session.connection()
    return int((await connection.execute(_NEXT_NUMBER, {"tenant": tenant_id, "year": year})).scalar_one())


async def report(uow: Uow, body: IncidentIn) -> IncidentOut:
    """Enter a breach in the register, start its clocks, and ask who uses the subprocessor if one is involved.

    Answered with the incident's view. The tenant's counter row stays locked from the numbering until
    the report commits, and every concurrent report waits for it: everything that can happen before the
    number is taken does (the view's reads, the writes, the relay's wake-up), so the lock is held only
    for the number's own statements and the commit.
    """
    now = uow.now()
    check_times(body.detected_at, body.aware_at, now, body.determined_at)
    values = _with_flags({k: _plain(v) for k, v in body.model_dump(exclude_none=True).items()}, [])
    incident = Incident(
        **values,
        tenant_id=uow.tenant_id,
        reference=UNNUMBERED,
        created_at=now,
        updated_at=now,
    )
    if incident.subprocessor_id:
        incident.subprocessor_request_id = uuid.uuid4()
    uow.session.add(incident)
    await uow.session.flush()
    note(uow, incident, "reported", {"facts": values})
    deadlines = await sync_deadlines(uow, incident, new=True)
    out = _view_of(uow, incident, deadlines, affected=0)  # a new incident has nobody attached yet
    await notify_relay(uow.session)
    await uow.session.flush()
    # Numbered last: the tenant's counter row stays locked from here until the report commits.
    number = await next_reference_number(uow.session, uow.tenant_id, body.aware_at.year)
    incident.reference = out.reference = reference_for(body.aware_at, number)
    await uow.stage(
        BreachReported(
            incident_id=incident.id,
            reference=incident.reference,
            aware_at=incident.aware_at,
            nature=incident.nature,
            jurisdictions=incident.jurisdictions,
            role=incident.role,
            subprocessor_id=incident.subprocessor_id,
        ),
        str(incident.id),
    )
    if incident.subprocessor_id and incident.subprocessor_request_id:
        await uow.stage(
            SubprocessorAffectedCustomersRequested(
                incident_id=incident.id,
                request_id=incident.subprocessor_request_id,
                subprocessor_id=incident.subprocessor_id,
            ),
            str(incident.id),
        )
    return out


async def update(uow: Uow, incident_id: uuid.UUID, body: IncidentPatch) -> Incident:
    """Change an open incident's facts, keep each change in the timeline and recompute the clocks when needed."""
    incident = await get_or_404(uow, Incident, incident_id, lock=True)
    require_open(incident.status)
    changes: dict[str, dict[str, Any]] = {}
    values = _with_flags({k: _plain(v) for k, v in body.model_dump(exclude_unset=True).items()}, incident.sectors)
    for name, new in values.items():
        old = getattr(incident, name)
        if new is None and name in {"title", "description", "nature", "jurisdictions", "role"}:
            continue  # required facts cannot be blanked
        if new != old:
            changes[name] = {"from": old, "to": new}
            setattr(incident, name, new if new is not None or not isinstance(old, list) else [])
    if not changes:
        return incident
    check_times(incident.detected_at, incident.aware_at, uow.now(), incident.determined_at)
    note(uow, incident, "updated", {"changes": changes})
    if CLOCK_FIELDS & changes.keys():
        await sync_deadlines(uow, incident)
    return incident


async def close(uow: Uow, incident_id: uuid.UUID, reason: str) -> Incident:
    """Close an incident: its open clocks stop and no notice can be drafted or sent any more."""
    incident = await get_or_404(uow, Incident, incident_id, lock=True)
    require_open(incident.status)
    incident.status, incident.closed_at = IncidentStatus.CLOSED, uow.now()
    await cancel_open(uow.session, incident)
    note(uow, incident, "closed", {"reason": reason})
    # The addresses of the people affected served only to tell them: a closed incident keeps none.
    await purge_contacts(uow, incident, "the incident closed")
    await uow.stage(BreachClosed(incident_id=incident.id, closed_at=uow.now()), str(incident.id))
    return incident


async def attach_subjects(uow: Uow, incident_id: uuid.UUID, refs: list[str]) -> tuple[int, int]:
    """Attach subject references of people affected; return how many were new and the total."""
    incident = await get_or_404(uow, Incident, incident_id, lock=True)
    require_open(incident.status)
    now = uow.now()
    rows = [
        {
            "id": uuid.uuid4(),
            "tenant_id": incident.tenant_id,
            "incident_id": incident.id,
            "subject_ref": ref,
            "added_at": now,
        }
        for ref in dict.fromkeys(refs)
    ]
    added = 0
    for chunk in chunks(rows):
        result = await uow.session.exec(
            insert(AffectedSubject).values(chunk).on_conflict_do_nothing().returning(col(AffectedSubject.id))
        )
        added += len(result.all())
    total = await count_subjects(uow.session, incident.id)
    # Counts only: the references themselves stay out of the timeline, so an erasure removes them everywhere.
    note(uow, incident, "subjects.attached", {"added": added, "total": total})
    return added, total


async def count_subjects(session: AsyncSession, incident_id: uuid.UUID) -> int:
    """How many subject references are attached to an incident."""
    result = await session.exec(
        select(func.count()).select_from(AffectedSubject).where(col(AffectedSubject.incident_id) == incident_id)
    )
    return int(result.one())


async def get(uow: Uow, incident_id: uuid.UUID) -> Incident:
    """One of the tenant's incidents (404 when missing or another tenant's)."""
    return await get_or_404(uow, Incident, incident_id)


async def view(uow: Uow, incident: Incident) -> IncidentOut:
    """The incident with its clocks and the number of people attached."""
    return (await views(uow, [incident]))[0]


async def views(uow: Uow, incidents: Sequence[Incident]) -> list[IncidentOut]:
    """Incidents with their clocks and people counts: two reads for the whole list, not two per incident."""
    if not incidents:
        return []
    ids = [i.id for i in incidents]
    deadlines: dict[uuid.UUID, list[Deadline]] = {i: [] for i in ids}
    for d in await find_in(uow, Deadline, "incident_id", ids, order_by=("target_at",)):
        deadlines[d.incident_id].append(d)
    counts = await counts_in(uow, AffectedSubject, "incident_id", ids)
    return [_view_of(uow, i, deadlines[i.id], affected=counts.get(i.id, 0)) for i in incidents]


def _view_of(uow: Uow, incident: Incident, deadlines: list[Deadline], *, affected: int) -> IncidentOut:
    flags = {name: sector.value in incident.sectors for name, sector in SECTOR_FLAGS.items()}
    return from_row(
        IncidentOut, incident, **flags, deadlines=deadline_views(uow, deadlines), affected_subject_refs=affected
    )


async def list_incidents(
    uow: Uow, statuses: Sequence[str], limit: int, offset: int = 0, by_clock: bool = False
) -> list[Incident]:
    """The tenant's incidents, newest awareness first, optionally in any of ``statuses``; ``offset`` pages on.

    ``by_clock`` orders them by their first open clock instead (the soonest due first; those with none
    running last), so a short list of what needs a person keeps the most urgent.
    """
    statement = select(Incident).where(col(Incident.tenant_id) == uow.tenant_id)
    if statuses:
        statement = statement.where(col(Incident.status).in_(list(statuses)))
    if by_clock:
        statement = statement.order_by(col(Incident.next_clock_at).asc().nulls_last())
    # The id breaks ties, so consecutive pages neither repeat nor skip an incident.
    statement = statement.order_by(col(Incident.aware_at).desc(), col(Incident.id)).offset(offset).limit(limit)
    return list((await uow.session.exec(statement)).all())


async def timeline(uow: Uow, incident_id: uuid.UUID) -> list[TimelineEntry]:
    """Every change of an incident, oldest first."""
    await get_or_404(uow, Incident, incident_id)
    rows = await uow.session.exec(
        select(TimelineEntry)
        .where(col(TimelineEntry.incident_id) == incident_id, col(TimelineEntry.tenant_id) == uow.tenant_id)
        .order_by(col(TimelineEntry.seq))
    )
    return list(rows.all())


async def customers_identified(uow: Uow, request_id: uuid.UUID, customer_ids: list[str]) -> Incident | None:
    """Fill in the customers the subprocessor service says use the breached subprocessor."""
    statement = select(Incident).where(
        col(Incident.tenant_id) == uow.tenant_id, col(Incident.subprocessor_request_id) == request_id
    )
    incident = (await uow.session.exec(statement.with_for_update())).first()
    if incident is None:
        return None
    added = [c for c in customer_ids if c not in incident.customers]
    if added:
        incident.customers = [*incident.customers, *added]
        note(uow, incident, "customers.identified", {"subprocessor_id": incident.subprocessor_id, "added": added})
    return incident
