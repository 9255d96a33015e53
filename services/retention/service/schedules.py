"""Subject-level schedules: one subject's data in one category falls due at a known date."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, DateTime, String, TextClause, bindparam, literal_column, text
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from services.retention.domain import (
    ClockStart,
    DataCategory,
    EndingEvent,
    parse_period,
    subject_action,
    subject_due_at,
)
from services.retention.models import LegalHoldRow, SubjectSchedule
from services.retention.service import Uow
from services.retention.service.policies import Applicable, applicable_or_default
from shared.events.catalogue import Event
from shared.events.catalogue.retention import SubjectScheduleCreated
from shared.rules.clock import ensure_utc
from shared.rules.errors import Unprocessable
from shared.runtime.db import copy_rows, new_ids

OPEN_STATUSES = ("pending", "held", "unrouted")
_OPEN_SQL = "(" + ", ".join(f"'{status}'" for status in OPEN_STATUSES) + ")"


@dataclass(frozen=True, slots=True)
class ScheduleRequest:
    """One subject's data to put on a schedule: what started the clock and when (the unit of work says who asked)."""

    subject_ref: str
    category: str
    event: ClockStart | EndingEvent
    event_at: datetime
    reason: str
    purpose: str | None = None
    source_event_id: str | None = None


async def schedule_subject(uow: Uow, request: ScheduleRequest) -> SubjectSchedule:
    """Put one subject's data on a schedule computed from the tenant's policy (or the default pack)."""
    (schedule_id,) = await schedule_subjects(uow, [request])
    schedule = await uow.session.get(SubjectSchedule, schedule_id)
    assert schedule is not None
    return schedule


async def schedule_subjects(uow: Uow, requests: Sequence[ScheduleRequest]) -> list[uuid.UUID]:
    """Put subjects' data on schedules, each with its ``schedule.created`` event and audit entry; the new ids.

    The policies are looked up once per (category, purpose), and the schedules, their events and
    their audit entries are written by one statement each (an imported file's withdrawals).
    """
    if not requests:
        return []
    now = uow.now()
    default_grace = uow.settings.consent_grace_period
    policies: dict[tuple[str, str | None], Applicable] = {}
    rows: list[dict[str, Any]] = []
    events: list[tuple[Event, str | None]] = []
    entries: list[tuple[str, str, Any, dict[str, Any] | None]] = []
    for request, schedule_id in zip(requests, new_ids(len(requests)), strict=True):
        memo = (request.category, request.purpose)
        found = policies.get(memo)
        if found is None:
            found = policies[memo] = await applicable_or_default(uow, request.category, purpose=request.purpose)
        grace = parse_period((found.row.grace_period if found.row else None) or default_grace, "grace period")
        row = {
            "id": schedule_id,
            "tenant_id": uow.tenant_id,
            "subject_ref": request.subject_ref,
            "category": found.policy.category.value,
            "purpose": request.purpose,
            "action": subject_action(found.policy).value,
            "reason": request.reason[:255],
            "policy_id": found.row.policy_id if found.row else None,
            "policy_version": found.row.version if found.row else None,
            "source_event_id": request.source_event_id,
            "status": "pending",
            "due_at": subject_due_at(found.policy, request.event, request.event_at, grace=grace),
            "event_at": request.event_at,
            "created_at": now,
        }
        rows.append(row)
        created = SubjectScheduleCreated(
            schedule_id=schedule_id,
            subject_ref=request.subject_ref,
            category=row["category"],
            reason=row["reason"],
            due_at=row["due_at"],
        )
        events.append((created, request.subject_ref))
        entries.append(
            (
                "schedule.created",
                "subject_schedule",
                schedule_id,
                {
                    "category": row["category"],
                    "purpose": request.purpose,
                    "due_at": row["due_at"],
                    "policy_id": row["policy_id"],
                    "policy_version": row["policy_version"],
                },
            )
        )
    # One COPY of the columns the rows name (the others start empty); rows added earlier come first.
    await copy_rows(uow.session, SubjectSchedule.__tablename__, list(rows[0]), [tuple(row.values()) for row in rows])
    # A burst (an imported file's withdrawals) shares outbox rows: far fewer rows to write and mark published.
    await uow.stage_many(events, packed=len(events) > 1)
    await uow.audit_many(entries)
    return [row["id"] for row in rows]


async def close_account(uow: Uow, subject_ref: str, closed_at: datetime | None) -> tuple[SubjectSchedule, bool]:
    """Schedule a closed account's data for the account policy: (the schedule, whether it is new); idempotent."""
    now = uow.now()
    closed_at = ensure_utc(closed_at) if closed_at else now
    if closed_at > now:
        raise Unprocessable("closed_at is in the future.", errors=[{"field": "closed_at"}])
    existing = await open_schedule(uow, subject_ref, DataCategory.ACCOUNT.value)
    if existing is not None:
        return existing, False
    request = ScheduleRequest(
        subject_ref=subject_ref,
        category=DataCategory.ACCOUNT.value,
        event=ClockStart.ACCOUNT_CLOSED,
        event_at=closed_at,
        reason="account closed",
    )
    return await schedule_subject(uow, request), True


EVER: ColumnElement[Any] = literal_column("'-infinity'::timestamptz")  # before every time


async def list_schedules(
    uow: Uow, *, subject_ref: str | None = None, status: str | None = None, limit: int = 100
) -> list[SubjectSchedule]:
    """The tenant's schedules, newest first, optionally for one subject reference or status."""
    rows = await uow.session.exec(schedules_query(uow.tenant_id, subject_ref, status, limit))
    return list(rows.all())


def schedules_query(
    tenant_id: str, subject_ref: str | None, status: str | None, limit: int
) -> SelectOfScalar[SubjectSchedule]:
    """A tenant's schedules, newest first (read from ``ix_subject_schedule_tenant_created``)."""
    # Always true: the predicate of the partial index that serves the newest first (``models``).
    statement = select(SubjectSchedule).where(
        col(SubjectSchedule.tenant_id) == tenant_id, col(SubjectSchedule.created_at) > EVER
    )
    if subject_ref:
        statement = statement.where(col(SubjectSchedule.subject_ref) == subject_ref)
    if status:
        statement = statement.where(col(SubjectSchedule.status) == status)
    return statement.order_by(col(SubjectSchedule.created_at).desc()).limit(limit)


async def open_schedule(
    uow: Uow, subject_ref: str, category: str, purpose: str | None = None
) -> SubjectSchedule | None:
    """The subject's open schedule for a category and purpose, if one exists (to keep intake idempotent)."""
    rows = await uow.session.exec(
        select(SubjectSchedule).where(
            col(SubjectSchedule.tenant_id) == uow.tenant_id,
            col(SubjectSchedule.subject_ref) == subject_ref,
            col(SubjectSchedule.category) == category,
            col(SubjectSchedule.purpose) == purpose if purpose is not None else col(SubjectSchedule.purpose).is_(None),
            col(SubjectSchedule.status).in_(OPEN_STATUSES),
        )
    )
    return rows.first()


def _for_keys(sql: str, **more: Any) -> TextClause:
    """A statement joined to ``unnest(:tenants, :refs[, :purposes]…)``: many subjects, one statement."""
    names = [name for name in ("tenants", "refs", "purposes") if f":{name}" in sql]
    arrays = [bindparam(name, type_=ARRAY(String)) for name in names]
    return text(sql).bindparams(*arrays, *(bindparam(name, type_=kind) for name, kind in more.items()))


# The statements below serve a poll of events of many tenants at once (the bulk handlers, the subject
# filter): they take the session and name each key's tenant, rather than one tenant's unit of work.
# Statements for many (tenant, subject, purpose) keys look each key up by the subject index, in a LATERAL
# subquery that LIMIT/OFFSET keeps from being flattened: joined as a plain join, a table without fresh
# statistics is guessed to hold one open row, and the plan scans all of it once per key of the batch
# (18 s for 3,000 grants against 30,000 schedules, against 12 ms key by key).
_OPEN_FOR_SUBJECT = (
    "FROM subject_schedule AS s WHERE s.tenant_id = k.tenant_id AND s.subject_ref = k.subject_ref "
    f"AND s.category = :category AND s.status IN {_OPEN_SQL}"
)
_OPEN_FOR_KEY = f"{_OPEN_FOR_SUBJECT} AND s.purpose = k.purpose"
# Which of many (tenant, subject, purpose) already have an open schedule in a category.
OPEN_KEYS = _for_keys(
    "SELECT k.tenant_id, k.subject_ref, k.purpose FROM unnest(:tenants, :refs, :purposes) "
    f"AS k(tenant_id, subject_ref, purpose) CROSS JOIN LATERAL (SELECT 1 {_OPEN_FOR_KEY} LIMIT 1) AS open"
)
# Cancel the open schedules of many (tenant, subject, purpose) whose clock started before a consent given at ``at``.
CANCEL_GIVEN_AGAIN = _for_keys(
    "UPDATE subject_schedule AS t SET status = 'cancelled', closed_at = :now "
    "FROM unnest(:tenants, :refs, :purposes, :at) AS k(tenant_id, subject_ref, purpose, occurred_at) "
    f"CROSS JOIN LATERAL (SELECT s.id {_OPEN_FOR_KEY} AND s.event_at <= k.occurred_at OFFSET 0) AS due "
    f"WHERE t.id = due.id AND t.status IN {_OPEN_SQL}",  # checked again on a row updated meanwhile
    at=ARRAY(DateTime(timezone=True)),
    now=DateTime(timezone=True),
)

# Which of many (tenant, subject) have something open in a category, whatever the purpose.
SUBJECTS_WAITING = _for_keys(
    "SELECT k.tenant_id, k.subject_ref FROM unnest(:tenants, :refs) AS k(tenant_id, subject_ref) "
    f"CROSS JOIN LATERAL (SELECT 1 {_OPEN_FOR_SUBJECT} LIMIT 1) AS open"
)


async def subjects_waiting(
    session: AsyncSession, subjects: Sequence[tuple[str, str]], category: str
) -> set[tuple[str, str]]:
    """Of (tenant, subject) pairs, those with a schedule open in ``category`` (one index probe each)."""
    if not subjects:
        return set()
    tenants, refs = (list(column) for column in zip(*subjects, strict=True))
    params = {"tenants": tenants, "refs": refs, "category": category}
    rows = await (await session.connection()).execute(SUBJECTS_WAITING, params)
    return {(row[0], row[1]) for row in rows}


async def open_schedule_keys(
    session: AsyncSession, keys: list[tuple[str, str, str]], category: str
) -> set[tuple[str, str, str]]:
    """``open_schedule`` for many (tenant, subject, purpose) at once: those that have one."""
    if not keys:
        return set()
    await session.flush()  # schedules added earlier in this transaction count
    tenants, refs, purposes = (list(column) for column in zip(*keys, strict=True))
    params = {"tenants": tenants, "refs": refs, "purposes": purposes, "category": category}
    rows = await (await session.connection()).execute(OPEN_KEYS, params)
    return {(row[0], row[1], row[2]) for row in rows}


async def cancel_given_again(
    session: AsyncSession, grants: list[tuple[str, str, str, datetime]], category: str, now: datetime
) -> None:
    """For each (tenant, subject, purpose, given at): cancel what waits on a consent that ended before it."""
    await session.flush()  # schedules written earlier in this transaction (a withdrawal in the same poll)
    tenants, refs, purposes, given = (list(column) for column in zip(*grants, strict=True))
    params = {"tenants": tenants, "refs": refs, "purposes": purposes, "at": given, "now": now, "category": category}
    await (await session.connection()).execute(CANCEL_GIVEN_AGAIN, params)


async def cancel_for_subject(uow: Uow, subject_ref: str, now: datetime) -> int:
    """Cancel what is still waiting for one subject (their data was erased another way); return how many."""
    result = await uow.session.exec(
        update(SubjectSchedule)
        .where(
            col(SubjectSchedule.tenant_id) == uow.tenant_id,
            col(SubjectSchedule.subject_ref) == subject_ref,
            col(SubjectSchedule.status).in_(OPEN_STATUSES),
        )
        .values(status="cancelled", closed_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def subject_records(uow: Uow, subject_ref: str) -> list[dict[str, Any]]:
    """Everything retention holds about one subject: schedules and holds placed on them (access export)."""
    schedules = (
        await uow.session.exec(
            select(SubjectSchedule).where(
                col(SubjectSchedule.tenant_id) == uow.tenant_id, col(SubjectSchedule.subject_ref) == subject_ref
            )
        )
    ).all()
    holds = (
        await uow.session.exec(
            select(LegalHoldRow).where(
                col(LegalHoldRow.tenant_id) == uow.tenant_id, col(LegalHoldRow.subject_ref) == subject_ref
            )
        )
    ).all()
    records: list[dict[str, Any]] = [
        {
            "type": "retention_schedule",
            "id": str(s.id),
            "category": s.category,
            "purpose": s.purpose,
            "reason": s.reason,
            "status": s.status,
            "due_at": s.due_at.isoformat(),
        }
        for s in schedules
    ]
    records += [
        {
            "type": "legal_hold",
            "id": str(h.id),
            "reason": h.reason,
            "placed_at": h.placed_at.isoformat(),
            "released_at": h.released_at.isoformat() if h.released_at else None,
        }
        for h in holds
    ]
    return records
