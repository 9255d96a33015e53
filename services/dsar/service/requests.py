"""Intake and reading of rights requests: validation, deadline, repetition check, idempotency."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, TypeVar

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select

from services.dsar.domain import (
    PriorRequest,
    RequestDetails,
    RequestState,
    RequestType,
    assess_repetition,
    calendar_code,
    check_received_at,
    compute_deadline,
    get_regime,
    normalise_locale,
    pause_clock,
    validate_details,
    working_calendar,
)
from services.dsar.domain.errors import NoIdentifier
from services.dsar.domain.identifiers import normalise, parse_kind, subject_ref
from services.dsar.domain.jurisdictions import PauseGround
from services.dsar.domain.portability import check_endpoint
from services.dsar.models import DsarRequest, ErasureCertificate, ExportPackage, IdempotencyKey, Verification
from services.dsar.service import Uow
from services.dsar.service.crypto import seal, subject_key
from services.dsar.service.deadlines import store_deadline
from services.dsar.service.notifications import notify_subject
from services.dsar.service.settings import chosen_calendars
from shared.events.catalogue.dsar import DsarRequestReceived
from shared.rules.errors import Conflict, NotFound, Unprocessable
from shared.runtime.repository import get_or_404

# The rows kept once per request: its package, its certificate of erasure.
R = TypeVar("R", ExportPackage, ErasureCertificate)


@dataclass(frozen=True)
class Intake:
    """A new request as the API validated it (identifiers still raw)."""

    request_type: RequestType
    regime_id: str
    identifiers: Sequence[tuple[str, str]]
    details: RequestDetails = field(default_factory=RequestDetails)
    channel: str | None = None
    agent_name: str | None = None
    agent_evidence_ref: str | None = None
    verification: str = "email_code"
    locale: str | None = None
    received_at: datetime | None = None  # when it arrived, if before it was entered (a letter, a call)
    body_hash: str = ""


def _normalised(identifiers: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    seen: dict[tuple[str, str], None] = {}
    for kind, value in identifiers:
        seen[(parse_kind(kind).value, normalise(kind, value))] = None
    if not seen:
        raise NoIdentifier("identifiers: give at least one identifier of the subject (email, user_id, phone, …)")
    # The email first: it is the subject's primary reference and where verification codes go.
    return [{"kind": k, "value": v} for k, v in sorted(seen, key=lambda p: p[0] != "email")]


async def find_by_idempotency_key(uow: Uow, key: str, body_hash: str) -> DsarRequest | None:
    """The request an earlier POST with this key created; 422 when the body differs."""
    row = await uow.session.get(IdempotencyKey, (uow.tenant_id, key))
    if row is None:
        return None
    if row.body_hash != body_hash:
        raise Unprocessable(
            "This Idempotency-Key was already used with a different request body; use a new key for a new request.",
            slug="idempotency-key-reused",
        )
    return await get_request(uow, row.request_id)


async def submit_request(uow: Uow, intake: Intake, idempotency_key: str | None) -> tuple[DsarRequest, bool]:
    """Record a new request and start its clock; return it and whether it was created now."""
    if idempotency_key:
        existing = await find_by_idempotency_key(uow, idempotency_key, intake.body_hash)
        if existing is not None:
            return existing, False
    regime = get_regime(intake.regime_id)
    regime.clock_for(intake.request_type)  # refuses a right the regime does not give
    details = validate_details(intake.request_type, intake.details)
    if details.target_endpoint:
        details = replace(
            details,
            target_endpoint=check_endpoint(details.target_endpoint, allow_loopback=uow.settings.portability_loopback),
        )
    identifiers = _normalised(intake.identifiers)
    key = subject_key(uow.settings)
    refs = [subject_ref(key, i["kind"], i["value"], tenant=uow.tenant_id) for i in identifiers]
    now = uow.now()
    received_at = now if intake.received_at is None else check_received_at(intake.received_at, now)
    calendar = calendar_code(regime, await chosen_calendars(uow))
    deadline = compute_deadline(received_at, regime, intake.request_type, working_calendar(calendar))
    # Identity is asked for now, so a clock that waits for it stops now; a request entered after its
    # due date is late already, and asking for identity then does not stop its clock.
    if PauseGround.IDENTITY in regime.clock_pause.grounds and now <= deadline.due_at:
        deadline = pause_clock(deadline, regime, paused_at=now, ground=PauseGround.IDENTITY)
    prior = await uow.session.exec(
        select(DsarRequest.request_type, DsarRequest.received_at).where(
            col(DsarRequest.tenant_id) == uow.tenant_id,
            DsarRequest.__table__.c.subject_refs.overlap(refs),  # type: ignore[attr-defined]
        )
    )
    repetition = assess_repetition(
        [PriorRequest(RequestType(t), at) for t, at in prior.all()], intake.request_type, received_at
    )
    request = DsarRequest(
        tenant_id=uow.tenant_id,
        request_type=intake.request_type.value,
        state=RequestState.AWAITING_VERIFICATION.value,
        regime_id=regime.id,
        channel=intake.channel,
        agent_name=intake.agent_name,
        agent_evidence_ref=intake.agent_evidence_ref,
        subject_ref=refs[0],
        subject_refs=refs,
        identifier_kinds=sorted({i["kind"] for i in identifiers}),
        locale=normalise_locale(intake.locale),
        subject_enc=seal(uow.settings, {"identifiers": identifiers, "details": _details_json(details)}),
        details_summary=_details_summary(details),
        repetition_reasons=list(repetition.reasons),
        received_at=received_at,
        entered_at=now,
        entered_by=uow.actor,
        calendar=calendar,
        clock_started_on=deadline.clock_started_on,
        deadline_basis=deadline.basis,
        verification_method=intake.verification,
        created_at=now,
        updated_at=now,
    )
    store_deadline(request, deadline)
    uow.session.add(request)
    uow.session.add(Verification(request_id=request.id, tenant_id=uow.tenant_id, updated_at=now))
    await uow.session.flush()
    if idempotency_key:
        inserted = await uow.session.exec(
            insert(IdempotencyKey)
            .values(
                tenant_id=uow.tenant_id,
                key=idempotency_key,
                request_id=request.id,
                body_hash=intake.body_hash,
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(IdempotencyKey.__table__.c.request_id)  # type: ignore[attr-defined]
        )
        if inserted.first() is None:
            raise Conflict("A request with this Idempotency-Key is being created right now; retry in a moment.")
    await uow.stage(
        DsarRequestReceived(
            request_id=request.id,
            request_type=request.request_type,
            subject_ref=request.subject_ref,
            regime=regime.id,
            due_at=request.due_at,
            received_at=received_at,
            acknowledge_by=request.acknowledge_by,
            channel=request.channel,
            repetition_flagged=repetition.flagged,
        ),
        subject=request.subject_ref,
    )
    uow.audit(
        "request.received",
        "dsar_request",
        request.id,
        {
            "type": request.request_type,
            "regime": regime.id,
            "kinds": request.identifier_kinds,
            "channel": request.channel,
            "received_at": received_at.isoformat(),
            "calendar": calendar,
        },
    )
    await acknowledge_receipt(uow, request)
    return request, True


async def acknowledge_receipt(uow: Uow, request: DsarRequest) -> None:
    """Confirm receipt to the subject, once, where the regime requires it.

    The CCPA asks for a confirmation within 10 business days that says how the request will be
    processed, including verification (Cal. Code Regs. tit. 11 § 7021(a), https://cppa.ca.gov/regulations/);
    it goes at once, with the due date. Without an email address nothing is sent and
    ``acknowledged_at`` stays empty: the team sees the acknowledgement is still owed.
    """
    if request.acknowledge_by is None or request.acknowledged_at is not None:
        return
    context = {
        "received_at": request.received_at,
        "due_at": request.due_at,
        "acknowledge_by": request.acknowledge_by,
        "verification_needed": request.verification_method == "email_code",
    }
    if await notify_subject(uow, request, "dsar.acknowledgement", context) is None:
        return
    request.acknowledged_at = uow.now()
    uow.session.add(request)
    uow.audit(
        "request.acknowledged", "dsar_request", request.id, {"acknowledge_by": request.acknowledge_by.isoformat()}
    )


def _details_json(details: RequestDetails) -> dict[str, Any]:
    return {
        "corrections": [{"field": c.field, "new_value": c.new_value} for c in details.corrections],
        "purposes": list(details.purposes),
        "target_controller": details.target_controller,
        "target_endpoint": details.target_endpoint,
    }


def _details_summary(details: RequestDetails) -> dict[str, Any]:
    # What may be shown without the personal data: field names, not their new values.
    summary: dict[str, Any] = {}
    if details.corrections:
        summary["fields"] = [c.field for c in details.corrections]
    if details.purposes:
        summary["purposes"] = list(details.purposes)
    if details.target_controller:
        summary["target_controller"] = details.target_controller
    if details.target_endpoint:
        # A controller's address, not the subject's: kept after the identifiers are purged, for the transfer.
        summary["target_endpoint"] = details.target_endpoint
    return summary


async def get_request(uow: Uow, request_id: uuid.UUID, *, for_update: bool = False) -> DsarRequest:
    """A request of the tenant (``for_update``: locked); 404 for a missing one or another tenant's."""
    return await get_or_404(uow, DsarRequest, request_id, lock=for_update, label="request")


async def of_request(uow: Uow, model: type[R], request_id: uuid.UUID, *, missing: str) -> R:
    """The row of ``model`` belonging to one of the tenant's requests (one per request); 404 ``missing`` otherwise."""
    statement = select(model).where(col(model.request_id) == request_id, col(model.tenant_id) == uow.tenant_id)
    row = (await uow.session.exec(statement)).first()
    if row is None:
        raise NotFound(missing)
    return row


RequestOrder = Literal["received", "due", "type", "state"]


@dataclass(frozen=True, slots=True)
class RequestQuery:
    """What a list of requests asks for: any of each filter's values (an empty filter: any), one order, one page."""

    states: Sequence[str] = ()
    subject_ref: str | None = None
    types: Sequence[str] = ()
    jurisdictions: Sequence[str] = ()
    due_before: datetime | None = None
    order: RequestOrder | None = None  # None: by due date with ``due_before``, else newest first
    limit: int = 100
    offset: int = 0


async def list_requests(uow: Uow, query: RequestQuery) -> list[DsarRequest]:
    """The tenant's requests matching ``query``, in its order, ties broken by id (pages neither repeat nor skip).

    With ``due_before``, only those due before that instant, by default the most urgent first: a list
    cut at ``limit`` then drops the requests with the most time left, never an overdue one.
    """
    statement = select(DsarRequest).where(col(DsarRequest.tenant_id) == uow.tenant_id)
    if query.states:
        statement = statement.where(col(DsarRequest.state).in_(list(query.states)))
    if query.subject_ref:
        statement = statement.where(col(DsarRequest.subject_refs).contains([query.subject_ref]))
    if query.types:
        statement = statement.where(col(DsarRequest.request_type).in_(list(query.types)))
    if query.jurisdictions:
        statement = statement.where(col(DsarRequest.regime_id).in_(list(query.jurisdictions)))
    if query.due_before is not None:
        statement = statement.where(col(DsarRequest.due_at) < query.due_before)
    order = query.order or ("due" if query.due_before is not None else "received")
    due = col(DsarRequest.due_at).asc()
    keys = {
        "received": (col(DsarRequest.received_at).desc(),),
        "due": (col(DsarRequest.closed_at).is_not(None), due),  # the open ones first: a closed one is not due
        "type": (col(DsarRequest.request_type), due),
        "state": (col(DsarRequest.state), due),
    }[order]
    statement = statement.order_by(*keys, col(DsarRequest.id)).offset(query.offset).limit(query.limit)
    rows = await uow.session.exec(statement)
    return list(rows.all())
