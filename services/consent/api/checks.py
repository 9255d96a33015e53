"""Checks for product backends (``service/hot`` answers most of ``GET /v1/checks``) and the subject's history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.consent.api.deps import DirectPoolDep, Reader, ReadUow, RecordedReadUow
from services.consent.schemas.consents import (
    SUBJECT_REF,
    CheckIn,
    CheckOut,
    ConsentOut,
    HistoryOut,
    SubjectSelector,
    SubjectStatusOut,
)
from services.consent.service import history
from services.consent.service.checks import check_at
from services.consent.service.common import resolve_subject
from services.consent.service.hot.checks import MAX_PURPOSES, check_now, check_out
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.service import ClockDep

router = APIRouter(prefix="/v1", tags=["checks"], responses=PROBLEM_RESPONSES)


@router.get("/checks", response_model=CheckOut, summary="Check one subject reference (fastest path)")
async def check_by_ref(
    pool: DirectPoolDep,
    clock: ClockDep,
    principal: Reader,
    subject_ref: Annotated[str, Query(pattern=SUBJECT_REF)],
    purpose: Annotated[list[str], Query(min_length=1, max_length=MAX_PURPOSES)],
) -> Response:
    """May the product use the data of ``subject_ref`` for each ``purpose`` now? One indexed read, no audit write."""
    now = clock.now()
    answers = await check_now(pool, principal.tenant_id, subject_ref, purpose, now)
    # Serialised here, once: returning the model would have FastAPI validate it again first.
    return Response(check_out(subject_ref, now, answers).model_dump_json(), media_type="application/json")


@router.post("/checks", response_model=CheckOut, summary="Check one or many purposes, now or at a past instant")
async def check(body: CheckIn, pool: DirectPoolDep, uow: ReadUow) -> CheckOut:
    """Answer per purpose with the reason; with ``at``, answer from the records as they stood then (audits)."""
    ref = resolve_subject(uow.settings, body, tenant=uow.tenant_id)
    if body.at is None:
        now = uow.now()
        return check_out(ref, now, await check_now(pool, uow.tenant_id, ref, body.purposes, now))
    return check_out(ref, body.at, await check_at(uow, ref, body.purposes, body.at))


@router.post("/subjects/history", response_model=HistoryOut, summary="A subject's full consent history")
async def subject_history(body: SubjectSelector, uow: RecordedReadUow) -> HistoryOut:
    """Every decision recorded for the subject, oldest first, with restriction, objection and erasure flags."""
    ref = resolve_subject(uow.settings, body, tenant=uow.tenant_id)
    status, records = await history.subject_history(uow, ref)
    return HistoryOut(
        subject_ref=ref,
        status=SubjectStatusOut.model_validate(status, from_attributes=True) if status else SubjectStatusOut(),
        records=[ConsentOut.model_validate(r) for r in records],
    )
