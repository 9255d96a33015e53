"""Operator decisions on a request: extend its deadline once, refuse it with reasons, or cancel it."""

from __future__ import annotations

import uuid
from datetime import datetime

from services.dsar.domain import RequestState, extend_deadline, get_regime, is_final, transition
from services.dsar.models import DsarRequest
from services.dsar.service import Uow
from services.dsar.service.completion import purge_request
from services.dsar.service.deadlines import calendar_of, deadline_of, store_deadline
from services.dsar.service.notifications import notify_subject, subject_email
from services.dsar.service.requests import get_request
from services.dsar.service.tasks import cancel_open_tasks
from shared.events.catalogue.dsar import DsarDeadlineExtended, DsarRequestCancelled, DsarRequestRefused
from shared.rules.errors import Conflict

REFUSAL_GROUNDS = {
    "manifestly_unfounded": "the request is manifestly unfounded (Art. 12(5)(b) GDPR)",
    "manifestly_excessive": "the request is manifestly excessive, in particular because it repeats earlier ones "
    "(Art. 12(5)(b) GDPR)",
    "identity_not_established": "your identity could not be established (Art. 12(2) and 12(6) GDPR)",
    "exemption": "a legal exemption applies",
}


def complaint_right(request: DsarRequest) -> dict[str, str]:
    """The authority a refused subject may complain to, from the regime."""
    authority = get_regime(request.regime_id).authority
    return {
        "authority": authority.name,
        "note": authority.note,
        "text": f"You may lodge a complaint with {authority.name} and seek a judicial remedy.",
    }


async def extend(uow: Uow, request_id: uuid.UUID, reasons: str, reasons_sent_at: datetime | None) -> DsarRequest:
    """Use the regime's single extension; the reasons go to the subject now unless already sent."""
    request = await get_request(uow, request_id, for_update=True)
    if is_final(RequestState(request.state)):
        raise Conflict(f"Request {request_id} is {request.state}; its deadline can no longer change.")
    now = uow.now()
    send_now = reasons_sent_at is None and subject_email(uow, request) is not None
    previous = deadline_of(request)
    extended = extend_deadline(
        previous,
        get_regime(request.regime_id),
        reasons_sent_at=now if send_now else reasons_sent_at,
        now=now,
        calendar=calendar_of(request),
    )
    if send_now:
        await notify_subject(
            uow,
            request,
            "dsar.extension",
            {
                "previous_due_at": previous.due_at,
                "due_at": extended.due_at,
                "extended_by": str(extended.extended_by),
                # The period as data too, for templates that say "2 months" in another language.
                "extended_by_amount": extended.extended_by.amount if extended.extended_by else None,
                "extended_by_unit": extended.extended_by.unit.value if extended.extended_by else None,
                "reasons": reasons,
                "basis": extended.basis,
            },
        )
    store_deadline(request, extended)
    request.extension_reasons = reasons
    request.extension_notified_at = now if send_now else reasons_sent_at
    request.updated_at = now
    uow.session.add(request)
    await uow.stage(
        DsarDeadlineExtended(
            request_id=request.id,
            request_type=request.request_type,
            subject_ref=request.subject_ref,
            regime=request.regime_id,
            due_at=request.due_at,
            previous_due_at=previous.due_at,
            extended_by=str(extended.extended_by),
        ),
        subject=request.subject_ref,
    )
    uow.audit("deadline.extended", "dsar_request", request.id, {"due_at": request.due_at, "reasons": reasons})
    return request


async def refuse(uow: Uow, request_id: uuid.UUID, grounds: str, reasons: str) -> DsarRequest:
    """Refuse the request with reasons and the right to complain; open tasks are cancelled."""
    request = await get_request(uow, request_id, for_update=True)
    request.state = transition(RequestState(request.state), RequestState.REFUSED).value
    right = complaint_right(request)
    await notify_subject(
        uow,
        request,
        "dsar.refusal",
        # grounds_code lets a template in another language word the grounds itself.
        {
            "grounds": REFUSAL_GROUNDS[grounds],
            "grounds_code": grounds,
            "reasons": reasons,
            "authority": right["authority"],
        },
    )
    await cancel_open_tasks(uow, request.id)
    now = uow.now()
    request.refusal_grounds, request.refusal_reasons = grounds, reasons
    request.closed_at = request.updated_at = now
    await purge_request(uow, request)
    await uow.stage(
        DsarRequestRefused(
            request_id=request.id,
            request_type=request.request_type,
            subject_ref=request.subject_ref,
            regime=request.regime_id,
            due_at=request.due_at,
            grounds=grounds,
            refused_at=now,
            authority=right["authority"],
        ),
        subject=request.subject_ref,
    )
    uow.audit("request.refused", "dsar_request", request.id, {"grounds": grounds, "reasons": reasons})
    return request


async def cancel(uow: Uow, request_id: uuid.UUID, reason: str | None) -> DsarRequest:
    """Withdraw the request (the subject changed their mind); open tasks are cancelled."""
    request = await get_request(uow, request_id, for_update=True)
    request.state = transition(RequestState(request.state), RequestState.CANCELLED).value
    await cancel_open_tasks(uow, request.id)
    now = uow.now()
    request.closed_at = request.updated_at = now
    await purge_request(uow, request)
    await uow.stage(
        DsarRequestCancelled(
            request_id=request.id,
            request_type=request.request_type,
            subject_ref=request.subject_ref,
            regime=request.regime_id,
            due_at=request.due_at,
            cancelled_at=now,
        ),
        subject=request.subject_ref,
    )
    uow.audit("request.cancelled", "dsar_request", request.id, {"reason": reason})
    return request
