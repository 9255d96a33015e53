"""Dependencies and presenters shared by the DSAR routes."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlmodel import col, select

from services.dsar.domain import DeadlineStatus, deadline_status
from services.dsar.models import DsarRequest, ErasureCertificate, ExportPackage, Verification
from services.dsar.schemas import DeadlineOut, RefusalOut, RequestOut, VerificationOut
from services.dsar.service.context import Ctx
from services.dsar.service.deadlines import deadline_of
from services.dsar.service.lifecycle import complaint_right
from services.dsar.settings import DsarSettings
from shared.runtime.auth import Principal, require
from shared.runtime.db import SessionDep
from shared.runtime.service import ClockDep


def unit_of_work(scope: str) -> Any:
    """A dependency giving the endpoint its ``Ctx`` once the caller holds ``scope``."""

    # A default rather than Annotated: the annotation would name ``scope``, which postponed
    # evaluation cannot resolve outside this closure.
    async def dependency(
        request: Request,
        session: SessionDep,
        clock: ClockDep,
        principal: Principal = Depends(require(scope)),
    ) -> Ctx:
        settings: DsarSettings = request.app.state.settings
        return Ctx(session, settings, clock, principal.tenant_id, principal.subject)

    return dependency


ReadCtx = Annotated[Ctx, Depends(unit_of_work("dsar:read"))]
WriteCtx = Annotated[Ctx, Depends(unit_of_work("dsar:write"))]
AdminCtx = Annotated[Ctx, Depends(unit_of_work("dsar:admin"))]
TaskCtx = Annotated[Ctx, Depends(unit_of_work("dsar:task"))]
NotifyCtx = Annotated[Ctx, Depends(unit_of_work("dsar:notify"))]


async def present(ctx: Ctx, request: DsarRequest) -> RequestOut:
    """The request as the API shows it, with its clock, verification and results."""
    verification = await ctx.session.get(Verification, request.id)
    certificate_id = await ctx.session.scalar(
        select(ErasureCertificate.id).where(col(ErasureCertificate.request_id) == request.id)
    )
    package_id = await ctx.session.scalar(select(ExportPackage.id).where(col(ExportPackage.request_id) == request.id))
    deadline = deadline_of(request)
    status = (
        DeadlineStatus.ON_TRACK
        if request.closed_at
        else deadline_status(deadline, ctx.now(), approaching_within=timedelta(days=ctx.settings.approaching_days))
    )
    limit = ctx.settings.verification_max_attempts
    return RequestOut(
        id=request.id,
        type=request.request_type,
        state=request.state,
        jurisdiction=request.regime_id,
        channel=request.channel,
        subject_ref=request.subject_ref,
        identifier_kinds=request.identifier_kinds,
        authorised_agent=request.agent_name,
        details=request.details_summary,
        received_at=request.received_at,
        deadline=DeadlineOut(
            due_at=request.due_at,
            initial_due_at=request.initial_due_at,
            acknowledge_by=request.acknowledge_by,
            basis=request.deadline_basis,
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
        identifiers_purged=request.subject_enc is None,
    )
