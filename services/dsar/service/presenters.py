"""The API shapes of stored rows that take more than the row: a request with its clock and results."""

from __future__ import annotations

from datetime import timedelta

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


async def present(uow: Uow, request: DsarRequest) -> RequestOut:
    """The request as the API shows it, with its clock, verification and results."""
    verification = await uow.session.get(Verification, request.id)
    certificate_id = package_id = transfer = None
    if request.verified_at is not None:  # before the identity is verified nothing has run: three reads fewer
        certificate_id = await uow.session.scalar(
            select(ErasureCertificate.id).where(col(ErasureCertificate.request_id) == request.id)
        )
        package_id = await uow.session.scalar(
            select(ExportPackage.id).where(col(ExportPackage.request_id) == request.id)
        )
        transfer = await uow.session.scalar(
            select(PortabilityTransfer).where(col(PortabilityTransfer.request_id) == request.id)
        )
    deadline = deadline_of(request)
    status = (
        DeadlineStatus.ON_TRACK
        if request.closed_at
        else deadline_status(deadline, uow.now(), approaching_within=timedelta(days=uow.settings.approaching_days))
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
