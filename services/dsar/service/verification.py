"""Identity verification before any data moves: a one-time code by email, or an operator's evidence."""

from __future__ import annotations

import uuid
from datetime import timedelta

import structlog
from sqlalchemy import update
from sqlmodel import col

from services.dsar.domain import RequestState, get_regime, resume_clock, transition
from services.dsar.models import DsarRequest, Verification
from services.dsar.service import Uow
from services.dsar.service.crypto import hash_secret, new_code, same_hash
from services.dsar.service.deadlines import calendar_of, deadline_of, store_deadline
from services.dsar.service.notifications import notify_subject, subject_email
from services.dsar.service.requests import get_request
from services.dsar.service.tasks import start_fanout
from shared.events.catalogue.dsar import DsarRequestVerified
from shared.rules.errors import Conflict, Gone, Unprocessable
from shared.runtime.db import Database
from shared.runtime.repository import get_or_404

log = structlog.get_logger("privops.dsar.verification")
MAX_CODES_SENT = 5


async def _verification(uow: Uow, request_id: uuid.UUID) -> Verification:
    return await get_or_404(uow, Verification, request_id, lock=True, label="verification of request")


def _require_awaiting(request: DsarRequest) -> None:
    # Raises IllegalTransition (409) for a request already verified or closed.
    transition(RequestState(request.state), RequestState.VERIFIED)


async def send_code(uow: Uow, request: DsarRequest) -> Verification:
    """Send a fresh one-time code to the subject's email (the previous code stops working)."""
    _require_awaiting(request)
    verification = await _verification(uow, request.id)
    if subject_email(uow, request) is None:
        raise Unprocessable("The request names no email address to send a code to; verify the identity manually.")
    if verification.codes_sent >= MAX_CODES_SENT:
        raise Conflict(f"{MAX_CODES_SENT} codes were sent already; verify the identity manually.")
    code, now = new_code(), uow.now()
    ttl = timedelta(seconds=uow.settings.verification_code_ttl_s)
    verification.code_hash = hash_secret(uow.settings, f"code:{request.id}", code)
    verification.code_expires_at = now + ttl
    verification.attempts = 0
    verification.status = "pending"
    verification.codes_sent += 1
    verification.last_sent_at = now
    verification.updated_at = now
    uow.session.add(verification)
    await notify_subject(uow, request, "dsar.verification_code", {"code": code, "expires_at": now + ttl}, ttl=ttl)
    uow.audit("verification.code_sent", "dsar_request", request.id, {"sent": verification.codes_sent})
    return verification


async def _consume_attempt(database: Database, request_id: uuid.UUID) -> int:
    # Committed on its own, before the code is compared: a wrong code still counts after the 422.
    async with database.session() as session:
        result = await session.exec(
            update(Verification)
            .where(col(Verification.request_id) == request_id)
            .values(attempts=Verification.attempts + 1)
            .returning(Verification.attempts)  # type: ignore[call-overload]
        )
        return int(result.scalar_one())


async def confirm_code(uow: Uow, database: Database, request_id: uuid.UUID, code: str) -> DsarRequest:
    """Check the code the subject gave; on success the request is verified and fans out."""
    request = await get_request(uow, request_id)
    _require_awaiting(request)
    probe = await uow.session.get(Verification, request_id)
    if probe is None or probe.code_hash is None or probe.code_expires_at is None:
        raise Conflict("No code was sent for this request; send one first.")
    limit = uow.settings.verification_max_attempts
    if probe.attempts >= limit:
        raise Conflict(f"{limit} wrong codes were given; send a new code or verify the identity manually.")
    if probe.code_expires_at < uow.now():
        raise Gone("The code has expired; send a new one.")
    attempts = await _consume_attempt(database, request_id)
    expected = hash_secret(uow.settings, f"code:{request_id}", code.strip())
    if attempts > limit or not same_hash(probe.code_hash, expected):
        left = max(0, limit - attempts)
        uow.audit("verification.code_rejected", "dsar_request", request_id, {"attempts_left": left})
        raise Unprocessable(f"The code is wrong; {left} attempt(s) left.", slug="wrong-code", attempts_left=left)
    request = await get_request(uow, request_id, for_update=True)
    return await mark_verified(uow, request, method="email_code", evidence_ref=None)


async def verify_manually(uow: Uow, request_id: uuid.UUID, evidence_ref: str, note: str | None) -> DsarRequest:
    """An operator confirms the identity from evidence (e.g. an identity document's reference)."""
    request = await get_request(uow, request_id, for_update=True)
    _require_awaiting(request)
    uow.audit("verification.manual", "dsar_request", request_id, {"evidence_ref": evidence_ref, "note": note})
    return await mark_verified(uow, request, method="manual", evidence_ref=evidence_ref)


async def mark_verified(uow: Uow, request: DsarRequest, *, method: str, evidence_ref: str | None) -> DsarRequest:
    """Identity established: restart a paused clock, then fan the request out to every system."""
    now = uow.now()
    verification = await _verification(uow, request.id)
    verification.status = "verified"
    verification.code_hash = None
    verification.updated_at = now
    uow.session.add(verification)
    deadline = deadline_of(request)
    if deadline.is_paused:
        regime = get_regime(request.regime_id)
        store_deadline(request, resume_clock(deadline, regime, resumed_at=now, calendar=calendar_of(request)))
    request.state = transition(RequestState(request.state), RequestState.VERIFIED).value
    request.verification_method = method
    request.verified_at = now
    request.verified_by = uow.actor
    request.evidence_ref = evidence_ref
    request.updated_at = now
    uow.session.add(request)
    tasks = await start_fanout(uow, request)
    await uow.stage(
        DsarRequestVerified(
            request_id=request.id,
            request_type=request.request_type,
            subject_ref=request.subject_ref,
            regime=request.regime_id,
            due_at=request.due_at,
            method=method,
            verified_at=now,
            tasks=tasks,
        ),
        subject=request.subject_ref,
    )
    uow.audit("request.verified", "dsar_request", request.id, {"method": method, "tasks": tasks})
    log.info("dsar.request.verified", request_id=str(request.id), method=method, tasks=tasks)
    return request
