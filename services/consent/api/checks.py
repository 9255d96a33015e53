"""The hot path for product backends (checks) and the subject's history."""

from __future__ import annotations

import re
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Query, Response

from services.consent.api.deps import DirectPoolDep, Reader, SettingsDep
from services.consent.schemas.consents import (
    SUBJECT_REF,
    CheckIn,
    CheckOut,
    CheckResultOut,
    ConsentOut,
    HistoryOut,
    SubjectSelector,
    SubjectStatusOut,
)
from services.consent.service import history
from services.consent.service.checks import PurposeAnswer, check_at, check_now
from services.consent.service.common import resolve_subject
from shared.runtime import audit
from shared.runtime.db import SessionDep
from shared.runtime.hotpath import HotAnswer, HotPath, HotRequest
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.service import ClockDep

router = APIRouter(prefix="/v1", tags=["checks"], responses=PROBLEM_RESPONSES)
MAX_PURPOSES = 100
_SUBJECT_REF = re.compile(SUBJECT_REF)


def _results(answers: list[PurposeAnswer]) -> list[CheckResultOut]:
    return [
        CheckResultOut(
            purpose=a.purpose,
            allowed=a.result.allowed,
            reason=a.result.reason,
            decided_at=a.result.decided_at,
            expires_at=a.result.expires_at,
            detail=a.result.detail,
        )
        for a in answers
    ]


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
    body = CheckOut(subject_ref=subject_ref, at=now, results=_results(answers)).model_dump_json()
    return Response(body, media_type="application/json")


async def fast_check_by_ref(request: HotRequest) -> HotAnswer | None:
    """``GET /v1/checks`` as a hot path (``shared.runtime.hotpath``): same answer, or ``None`` for the route."""
    refs, purposes = request.query.get("subject_ref"), request.query.get("purpose")
    pool: asyncpg.Pool | None = getattr(request.state, "direct_pool", None)
    if pool is None or not refs or len(refs) != 1 or not _SUBJECT_REF.match(refs[0]):
        return None
    if not purposes or len(purposes) > MAX_PURPOSES:
        return None
    now = request.state.clock.now()
    answers = await check_now(pool, request.principal.tenant_id, refs[0], purposes, now)
    return 200, CheckOut(subject_ref=refs[0], at=now, results=_results(answers)).model_dump_json().encode()


HOT_PATHS = [HotPath("GET", "/v1/checks", "consent:read", fast_check_by_ref)]


@router.post("/checks", response_model=CheckOut, summary="Check one or many purposes, now or at a past instant")
async def check(
    body: CheckIn, pool: DirectPoolDep, session: SessionDep, clock: ClockDep, settings: SettingsDep, principal: Reader
) -> CheckOut:
    """Answer per purpose with the reason; with ``at``, answer from the records as they stood then (audits)."""
    ref = resolve_subject(settings, body)
    now = clock.now()
    if body.at is None:
        answers = await check_now(pool, principal.tenant_id, ref, body.purposes, now)
        return CheckOut(subject_ref=ref, at=now, results=_results(answers))
    answers = await check_at(session, principal.tenant_id, ref, body.purposes, body.at)
    return CheckOut(subject_ref=ref, at=body.at, results=_results(answers))


@router.post("/subjects/history", response_model=HistoryOut, summary="A subject's full consent history")
async def subject_history(
    body: SubjectSelector, session: SessionDep, clock: ClockDep, settings: SettingsDep, principal: Reader
) -> HistoryOut:
    """Every decision recorded for the subject, oldest first, with restriction, objection and erasure flags."""
    ref = resolve_subject(settings, body)
    status, records = await history.subject_history(session, principal.tenant_id, ref)
    audit.record(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="subject.history_read",
        entity_type="subject",
        entity_id=ref,
        clock=clock,
        detail={"records": len(records)},
    )
    return HistoryOut(
        subject_ref=ref,
        status=SubjectStatusOut.model_validate(status, from_attributes=True) if status else SubjectStatusOut(),
        records=[ConsentOut.model_validate(r) for r in records],
    )
