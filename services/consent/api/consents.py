"""Endpoints recording decisions: give, refuse, withdraw (one call), GPC signals, and reading records."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Header
from pydantic import ValidationError

from services.consent.api.deps import Reader, SettingsDep, Writer
from services.consent.models import ConsentRecord
from services.consent.schemas.consents import ConsentIn, ConsentOut, GpcIn, GpcOut, WithdrawIn, WithdrawOut
from services.consent.service import consents, history
from services.consent.service.common import resolve_subject
from services.consent.service.recording import Capture
from shared.runtime.db import SessionDep
from shared.runtime.hotpath import HotAnswer, HotPath, HotRequest
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.service import ClockDep

router = APIRouter(prefix="/v1", tags=["consents"], responses=PROBLEM_RESPONSES)
GpcHeader = Annotated[str | None, Header(alias="Sec-GPC", description="Global Privacy Control: 1 opts out")]


@router.post("/consents", status_code=201, response_model=ConsentOut, summary="Record a consent decision")
async def record_consent(
    body: ConsentIn,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: Writer,
    sec_gpc: GpcHeader = None,
) -> dict[str, Any]:
    """Append a decision with its proof and publish its event through the outbox, in one transaction.

    With ``Sec-GPC: 1`` the GPC-covered purposes (other than the one decided here) are opted out too.
    """
    record = await consents.record_consent(session, principal, body, settings, clock)
    capture = Capture(body.channel, body.collector, consents.proof_of(settings, body.proof))
    opted_out = await consents.capture_gpc(
        session, principal, record.subject_ref, sec_gpc, capture, settings, clock, skip=body.purpose
    )
    await session.flush()
    return record.model_dump() | {"gpc_opt_outs": [r.purpose for r in opted_out]}


async def fast_record_consent(request: HotRequest) -> HotAnswer | None:
    """``POST /v1/consents`` as a hot path (``shared.runtime.hotpath``): one statement, or ``None`` for the route.

    A request with ``Sec-GPC``, a body the schema refuses, or a purpose whose rules are not cached yet
    goes to the route (which caches the rules for the next request).
    """
    state = request.state
    pool: asyncpg.Pool | None = getattr(state, "direct_pool", None)
    runtime = getattr(state, "runtime", None)
    if pool is None or runtime is None or "sec-gpc" in request.headers:
        return None
    if not request.headers.get("content-type", "").startswith("application/json"):
        return None  # the route decides what other media types get
    try:
        body = ConsentIn.model_validate_json(request.body)
    except ValidationError:
        return None
    engine = runtime.database.engine.sync_engine
    record = await consents.record_consent_direct(pool, engine, request.principal, body, state.settings, state.clock)
    if record is None:
        return None
    return 201, ConsentOut.model_validate(record).model_dump_json().encode()


@router.post("/consents/withdraw", response_model=WithdrawOut, summary="Withdraw consent in one call")
async def withdraw(
    body: WithdrawIn, session: SessionDep, clock: ClockDep, settings: SettingsDep, principal: Writer
) -> WithdrawOut:
    """Withdraw the listed purposes, or every purpose currently granted when ``purposes`` is omitted."""
    ref, records = await consents.withdraw(session, principal, body, settings, clock)
    await session.flush()
    return WithdrawOut(subject_ref=ref, withdrawn=[ConsentOut.model_validate(r) for r in records])


@router.post("/gpc", response_model=GpcOut, summary="Capture a Global Privacy Control signal")
async def capture_gpc(
    body: GpcIn,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: Writer,
    sec_gpc: GpcHeader = None,
) -> GpcOut:
    """``Sec-GPC: 1`` records opt-outs for GPC-covered purposes; without it nothing is recorded (never a consent)."""
    ref = resolve_subject(settings, body)
    capture = Capture(body.channel, body.collector, consents.proof_of(settings, body.proof))
    records = await consents.capture_gpc(session, principal, ref, sec_gpc, capture, settings, clock)
    await session.flush()
    return GpcOut(
        subject_ref=ref,
        signal=sec_gpc is not None and sec_gpc.strip() == "1",
        opted_out=[ConsentOut.model_validate(r) for r in records],
    )


@router.get("/consents/{consent_id}", response_model=ConsentOut, summary="Read one consent record")
async def get_consent(consent_id: uuid.UUID, session: SessionDep, principal: Reader) -> ConsentRecord:
    """A consent record of the caller's tenant (another tenant's record is reported as not found)."""
    return await history.get_record(session, principal.tenant_id, consent_id)


@router.get("/consents/{consent_id}/receipt", summary="Consent receipt (Kantara v1.1 / ISO/IEC TS 27560)")
async def get_receipt(consent_id: uuid.UUID, session: SessionDep, principal: Reader) -> dict[str, Any]:
    """The receipt of one record, naming the controller, the purpose, the data and the proof."""
    record = await history.get_record(session, principal.tenant_id, consent_id)
    return await history.receipt(session, record)


HOT_PATHS = [HotPath("POST", "/v1/consents", "consent:write", fast_record_consent, replayable=False)]
