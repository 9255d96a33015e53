"""The audit API every service gets from the factory: its tenant's audit entries, and the chain's verification.

``GET /v1/audit`` lists the caller's tenant's entries, newest first (filters: action, entity type and
id, actor, a time window; a page before an entry id). ``GET /v1/audit/verification`` walks the
service's whole hash chain (``shared.runtime.audit.verify``) and says whether any sealed row was
edited, deleted or reordered: the records of processing a controller keeps to demonstrate compliance
(GDPR Arts. 5(2) and 30, https://eur-lex.europa.eu/eli/reg/2016/679/oj). Both need ``<service>:read``,
the auditor's level.
"""

# No ``from __future__ import annotations``: the routes' dependency is a local FastAPI must resolve.

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlmodel import col, select

from shared.runtime import audit
from shared.runtime.audit import AuditEntry
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.uow import UnitOfWork, unit_of_work

MAX_PAGE = 500
MAX_ID = 2**63 - 1


class AuditEntryOut(BaseModel):
    """One audited change or read, and its place in the chain (``seq`` null until sealed, within a second)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    seq: int | None
    occurred_at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    detail: dict[str, Any]
    hash: str | None


class AuditVerificationOut(BaseModel):
    """The result of walking the service's chain, every tenant's rows (only counts and sequence numbers shown)."""

    ok: bool = Field(description="No sealed row was edited, deleted or reordered")
    checked: int = Field(description="Sealed rows walked")
    unsealed: int = Field(description="Rows written but not sealed yet")
    problems: list[str]
    verified_at: datetime


def audit_router(service: str) -> APIRouter:
    """The audit routes of ``service`` (scope ``<service>:read``)."""
    router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=PROBLEM_RESPONSES)
    reader = unit_of_work(f"{service}:read", read_only=True)

    @router.get("", response_model=list[AuditEntryOut], summary="List the audit log")
    async def list_entries(
        uow: UnitOfWork[Any] = Depends(reader),
        action: str | None = Query(default=None, max_length=128),
        entity_type: str | None = Query(default=None, max_length=128),
        entity_id: str | None = Query(default=None, max_length=255),
        actor: str | None = Query(default=None, max_length=255),
        since: AwareDatetime | None = Query(default=None, description="Entries at or after this instant"),
        until: AwareDatetime | None = Query(default=None, description="Entries before this instant"),
        before: int | None = Query(default=None, ge=1, le=MAX_ID, description="Entries older than this id (paging)"),
        limit: int = Query(default=100, ge=1, le=MAX_PAGE),
    ) -> list[AuditEntry]:
        """The caller's tenant's entries, newest first."""
        query = select(AuditEntry).where(col(AuditEntry.tenant_id) == uow.tenant_id)
        for column, value in (
            (AuditEntry.action, action),
            (AuditEntry.entity_type, entity_type),
            (AuditEntry.entity_id, entity_id),
            (AuditEntry.actor, actor),
        ):
            if value:
                query = query.where(col(column) == value)
        if since is not None:
            query = query.where(col(AuditEntry.occurred_at) >= since)
        if until is not None:
            query = query.where(col(AuditEntry.occurred_at) < until)
        if before is not None:
            query = query.where(col(AuditEntry.id) < before)
        return list((await uow.session.exec(query.order_by(col(AuditEntry.id).desc()).limit(limit))).all())

    @router.get("/verification", response_model=AuditVerificationOut, summary="Verify the audit chain")
    async def verification(uow: UnitOfWork[Any] = Depends(reader)) -> AuditVerificationOut:
        """Walk the whole chain now (it reads every sealed row: ask for it, do not poll it)."""
        report = await audit.verify(uow.session)
        return AuditVerificationOut(
            ok=report.ok,
            checked=report.checked,
            unsealed=report.unsealed,
            problems=report.problems[:100],
            verified_at=uow.now(),
        )

    return router
