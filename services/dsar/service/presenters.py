"""The API shapes of stored rows that take more than the row: a request with its clock and results."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from services.dsar.domain import DeadlineStatus, deadline_status
from services.dsar.models import (
    DataSystem,
    DsarRequest,
    DsarTask,
    ErasureCertificate,
    ExportPackage,
    PortabilityTransfer,
    Verification,
)
from services.dsar.schemas import DeadlineOut, RefusalOut, RequestOut, TaskOut, VerificationOut
from services.dsar.schemas.requests import TransferSummary
from services.dsar.service import Uow
from services.dsar.service.deadlines import deadline_of
from services.dsar.service.lifecycle import complaint_right
from shared.runtime.repository import columns_in, find_in


async def present(uow: Uow, request: DsarRequest) -> RequestOut:
    """The request as the API shows it, with its clock, verification and results."""
    return (await present_many(uow, [request]))[0]


async def present_many(uow: Uow, requests: Sequence[DsarRequest]) -> list[RequestOut]:
    """Requests as the API shows them: four reads for the whole list, not four per request.

    A queue of 500 requests was 500 to 2,000 reads; the console's home page and queue list hundreds.
    """
    if not requests:
        return []
    ids = [r.id for r in requests]
    verifications = {v.request_id: v for v in await find_in(uow, Verification, "request_id", ids)}
    verified = [r.id for r in requests if r.verified_at is not None]  # before verification nothing has run
    certificates: dict[Any, Any] = {}
    packages: dict[Any, Any] = {}
    transfers: dict[Any, PortabilityTransfer] = {}
    if verified:
        certificates = dict(await columns_in(uow, ErasureCertificate, "request_id", verified, ("request_id", "id")))
        # a package's row holds its file: only its id is read here
        packages = dict(await columns_in(uow, ExportPackage, "request_id", verified, ("request_id", "id")))
        transfers = {t.request_id: t for t in await find_in(uow, PortabilityTransfer, "request_id", verified)}
    now = uow.now()
    return [
        _present(uow, r, now, verifications.get(r.id), certificates.get(r.id), packages.get(r.id), transfers.get(r.id))
        for r in requests
    ]


def _present(
    uow: Uow,
    request: DsarRequest,
    now: datetime,
    verification: Verification | None,
    certificate_id: Any,
    package_id: Any,
    transfer: PortabilityTransfer | None,
) -> RequestOut:
    deadline = deadline_of(request)
    status = (
        DeadlineStatus.ON_TRACK
        if request.closed_at
        else deadline_status(deadline, now, approaching_within=timedelta(days=uow.settings.approaching_days))
    )
    limit = uow.settings.verification_max_attempts
    return RequestOut(
        id=request.id,
        type=request.request_type,
        state=request.state,
        jurisdiction=request.regime_id,
        channel=request.channel,
        locale=request.locale,
        subject_ref=request.subject_ref,
        identifier_kinds=request.identifier_kinds,
        authorised_agent=request.agent_name,
        details=request.details_summary,
        received_at=request.received_at,
        entered_at=request.entered_at,
        entered_by=request.entered_by,
        deadline=DeadlineOut(
            due_at=request.due_at,
            initial_due_at=request.initial_due_at,
            acknowledge_by=request.acknowledge_by,
            acknowledged_at=request.acknowledged_at,
            basis=request.deadline_basis,
            calendar=request.calendar,
            extended_by=str(deadline.extended_by) if deadline.extended_by else None,
            extension_reasons=request.extension_reasons,
            paused=deadline.is_paused,
            paused_since=request.paused_since,
            status=status,
        ),
        repetition={"flagged": bool(request.repetition_reasons), "reasons": request.repetition_reasons},
        verification=VerificationOut(
            method=request.verification_method,
            status=verification.status if verification else "unknown",
            attempts_left=max(0, limit - verification.attempts) if verification else None,
            code_expires_at=verification.code_expires_at if verification else None,
            verified_at=request.verified_at,
            evidence_ref=request.evidence_ref,
        ),
        refusal=RefusalOut(
            grounds=request.refusal_grounds, reasons=request.refusal_reasons, complaint=complaint_right(request)
        )
        if request.refusal_grounds
        else None,
        outcome=request.outcome,
        closed_at=request.closed_at,
        certificate_id=certificate_id,
        package_id=package_id,
        transfer=TransferSummary.model_validate(transfer, from_attributes=True) if transfer else None,
        identifiers_purged=request.subject_enc is None,
    )


def task_out(task: DsarTask, system: DataSystem | None = None) -> TaskOut:
    """The API shape of a task (with a manual system's instructions and contact when given)."""
    handling = {"instructions": system.instructions, "contact": system.contact} if system and task.manual else {}
    return TaskOut(system=task.system_key, **task.model_dump(exclude={"system_key", "export_enc"}), **handling)


async def tasks_out(uow: Uow, tasks: list[DsarTask]) -> list[TaskOut]:
    """The API shape of tasks; a manual system's tasks say how a person carries them out (from the registry)."""
    keys = {t.system_key for t in tasks if t.manual}
    systems: dict[str, DataSystem] = {}
    if keys:
        rows = await uow.session.exec(
            select(DataSystem).where(col(DataSystem.tenant_id) == uow.tenant_id, col(DataSystem.key).in_(keys))
        )
        systems = {s.key: s for s in rows.all()}
    return [task_out(t, systems.get(t.system_key)) for t in tasks]
