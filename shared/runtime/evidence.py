"""Evidence on request: what a service keeps as proof of compliance for one tenant and one period.

A processor makes available to its customer "all information necessary to demonstrate compliance"
and allows for audits (GDPR Art. 28(3)(h)); a controller shows its compliance (Art. 5(2),
https://eur-lex.europa.eu/eli/reg/2016/679/oj). Each service declares its evidence sections in
its ``ServiceSpec(evidence=[...])``: functions ``(uow, since, until) -> dict`` living in
``services/<svc>/service/evidence.py``, named after what they return (``data_map_evidence`` is the
section ``data_map``). Every service serves them the same way, ``GET /v1/evidence?since=&until=``
(scope ``evidence:read``), with the verification of its audit chain; the identity service
assembles the answers of all services into a signed evidence pack.

A section never holds personal data: no subject reference, no email, no person's name. It gives
counts, registers, settings and the identifiers of the documents that hold the detail.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from shared.rules.errors import Unprocessable
from shared.rules.scopes import EVIDENCE_READ
from shared.runtime import audit
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.uow import UnitOfWork, unit_of_work

# A section: (uow, since, until) with ``since`` inclusive and ``until`` exclusive (UTC instants), giving JSON data.
EvidenceSection = Callable[[UnitOfWork[Any], datetime, datetime], Awaitable[dict[str, Any]] | dict[str, Any]]
EvidenceUow = Annotated[UnitOfWork[Any], Depends(unit_of_work(EVIDENCE_READ))]  # the export is audited
SECTION_SUFFIX = "_evidence"
MAX_PERIOD_DAYS = 3700  # ten years and a bit: the longest retention periods evidence must cover


def section_name(section: EvidenceSection) -> str:
    """The name a section is published under: its function's name without ``_evidence``."""
    return getattr(section, "__name__", "section").removesuffix(SECTION_SUFFIX)


def period_bounds(since: date, until: date) -> tuple[datetime, datetime]:
    """The instants of a period of whole UTC days: from ``since`` 00:00 to the day after ``until`` (exclusive)."""
    if until < since:
        raise Unprocessable("The period ends before it starts: 'until' is a later day.", errors=[{"field": "until"}])
    if (until - since).days > MAX_PERIOD_DAYS:
        raise Unprocessable(f"The period is longer than {MAX_PERIOD_DAYS} days.", errors=[{"field": "since"}])
    if until == date.max:
        raise Unprocessable("The period ends after the last day a calendar can count.", errors=[{"field": "until"}])
    start = datetime.combine(since, time(0), tzinfo=UTC)
    return start, datetime.combine(until, time(0), tzinfo=UTC) + timedelta(days=1)


def within(column: Any, since: datetime, until: datetime) -> Any:
    """The SQL condition "``column`` falls in the period" (``since`` inclusive, ``until`` exclusive)."""
    return (col(column) >= since) & (col(column) < until)


def counted(rows: Sequence[tuple[Any, ...]]) -> dict[str, int]:
    """``{"a/b": n}`` from ``(a, b, n)`` rows of a GROUP BY (None shown as ``none``)."""
    return {"/".join("none" if v is None else str(v) for v in row[:-1]): int(row[-1]) for row in rows}


class Period(BaseModel):
    """A period of whole days (UTC), both ends included."""

    since: date
    until: date


class AuditChain(BaseModel):
    """The verification of the service's hash-chained audit log (every tenant's entries are one chain)."""

    ok: bool = Field(description="No sealed entry was edited, deleted or reordered")
    checked: int = Field(description="Sealed entries walked")
    unsealed: int = Field(description="Entries written but not yet sealed into the chain")
    problems: list[str] = Field(description="Each break found, by sequence number")
    head_seq: int | None = Field(description="The newest sealed entry's sequence number")
    head_hash: str | None = Field(description="Its chain hash: a later pack shows the chain grew from it")
    tenant_entries: int = Field(description="Entries of this tenant in the period")


class EvidenceOut(BaseModel):
    """One service's evidence for the tenant and period."""

    service: str
    tenant: str
    period: Period
    generated_at: datetime
    sections: dict[str, dict[str, Any]]
    audit_chain: AuditChain


async def audit_chain(uow: UnitOfWork[Any], since: datetime, until: datetime) -> AuditChain:
    """Walk the service's audit chain (``shared.runtime.audit.verify``) and count the tenant's entries in the period."""
    report = await audit.verify(uow.session)
    newest = select(audit.AuditCheckpoint).order_by(col(audit.AuditCheckpoint.seq).desc()).limit(1)
    head = (await uow.session.exec(newest)).first()
    entries = await uow.session.scalar(
        sa_select(func.count())
        .select_from(audit.AuditEntry)
        .where(col(audit.AuditEntry.tenant_id) == uow.tenant_id, within(audit.AuditEntry.occurred_at, since, until))
    )
    return AuditChain(
        ok=report.ok,
        checked=report.checked,
        unsealed=report.unsealed,
        problems=report.problems,
        head_seq=head.seq if head else None,
        head_hash=head.hash if head else None,
        tenant_entries=int(entries or 0),
    )


async def collect(uow: UnitOfWork[Any], sections: Sequence[EvidenceSection], since: date, until: date) -> EvidenceOut:
    """Every section of the service for the unit's tenant and the period, and the audit chain's state."""
    start, end = period_bounds(since, until)
    found: dict[str, dict[str, Any]] = {}
    for section in sections:
        data = section(uow, start, end)
        found[section_name(section)] = await data if inspect.isawaitable(data) else data
    chain = await audit_chain(uow, start, end)
    uow.audit("evidence.read", "evidence", uow.tenant_id, {"since": since.isoformat(), "until": until.isoformat()})
    return EvidenceOut(
        service=uow.settings.service_name,
        tenant=uow.tenant_id,
        period=Period(since=since, until=until),
        generated_at=uow.now(),
        sections=found,
        audit_chain=chain,
    )


def evidence_router(sections: Sequence[EvidenceSection]) -> APIRouter:
    """``GET /v1/evidence``: the service's evidence sections for the caller's tenant (scope ``evidence:read``)."""
    router = APIRouter(prefix="/v1", tags=["evidence"], responses=PROBLEM_RESPONSES)

    @router.get("/evidence", response_model=EvidenceOut, summary="Evidence of compliance for a period")
    async def evidence(
        uow: EvidenceUow,
        since: Annotated[date, Query(description="First day of the period (UTC), e.g. 2026-01-01")],
        until: Annotated[date, Query(description="Last day of the period (UTC), included")],
    ) -> EvidenceOut:
        """Registers, counts and document ids this service keeps for the tenant, without personal data, and the
        verification of its audit chain; the identity service assembles every service's into a signed pack."""
        return await collect(uow, sections, since, until)

    return router
