"""Change proposals: notices to every affected customer, objections and their resolution, cancellation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel import col, select

from services.subprocessor.domain import (
    OBJECTABLE_KINDS,
    ChangeKind,
    ChangeState,
    CustomerNotice,
    ObjectionResolution,
    blocking_reasons,
    transition,
    validate_effective_date,
)
from services.subprocessor.domain import Objection as DomainObjection
from services.subprocessor.domain import SubprocessorChange as DomainChange
from services.subprocessor.domain.notices import notice_content
from services.subprocessor.models import ChangeNotice, Customer, Objection, Subprocessor, SubprocessorChange
from services.subprocessor.schemas import ChangeIn, ChangeOut, ObjectionOut
from services.subprocessor.service import Uow
from services.subprocessor.service import notices as notice_service
from services.subprocessor.service.register import checked_locations, customers_of
from shared.events.catalogue.subprocessor import SubprocessorChangeCancelled, SubprocessorChangeProposed
from shared.rules.errors import Conflict, NotFound, Unprocessable
from shared.runtime.repository import get_or_404
from shared.runtime.views import from_row

FINAL_STATES = ("effective", "cancelled")


def to_domain(
    change: SubprocessorChange, notices: Sequence[ChangeNotice], objections: Sequence[Objection]
) -> tuple[DomainChange, list[CustomerNotice], list[DomainObjection]]:
    """The pure-rule view of a change, its notices and its objections."""
    domain_change = DomainChange(
        id=str(change.id),
        kind=ChangeKind(change.kind),
        subprocessor=str(change.subprocessor_id),
        affected_customers=frozenset(change.affected_customer_ids),
        effective_at=change.effective_at,
        replaces=str(change.replaces_id) if change.replaces_id else None,
        state=ChangeState(change.state),
    )
    domain_notices = [
        CustomerNotice(str(n.change_id), str(n.customer_id), n.notice_period_days, n.delivered_at) for n in notices
    ]
    domain_objections = [
        DomainObjection(
            change_id=str(o.change_id),
            customer_id=str(o.customer_id),
            raised_at=o.raised_at,
            reason=o.reason,
            resolution=ObjectionResolution(o.resolution) if o.resolution else None,
            resolved_at=o.resolved_at,
        )
        for o in objections
    ]
    return domain_change, domain_notices, domain_objections


async def _affected(
    uow: Uow, body: ChangeIn, sub: Subprocessor, replaced: Subprocessor | None
) -> tuple[list[Customer], dict[str, Any]]:
    """The customers a change affects, and what a location or purpose change sets."""
    kind, now_status = body.kind, sub.status
    if kind in (ChangeKind.ADD, ChangeKind.REPLACE) and now_status != "proposed":
        raise Unprocessable(
            f"Subprocessor {sub.name} is {now_status}; an addition or replacement brings in a proposed one."
        )
    if kind not in (ChangeKind.ADD, ChangeKind.REPLACE) and now_status != "active":
        raise Unprocessable(f"Subprocessor {sub.name} is {now_status}; only an active subprocessor can be changed.")
    proposed: dict[str, Any] = {}
    if kind is ChangeKind.LOCATION_CHANGE:
        if not body.locations:
            raise Unprocessable("A location change needs the new list of locations.", errors=[{"field": "locations"}])
        proposed["locations"] = checked_locations(body.locations, at=body.effective_at, dpf_certified=sub.dpf_certified)
    if kind is ChangeKind.PURPOSE_CHANGE:
        if not body.purposes and not body.data_categories:
            raise Unprocessable(
                "A purpose change needs new purposes or data categories.", errors=[{"field": "purposes"}]
            )
        proposed |= {k: v for k, v in (("purposes", body.purposes), ("data_categories", body.data_categories)) if v}
    if kind is ChangeKind.ADD:
        statement = select(Customer).where(col(Customer.tenant_id) == uow.tenant_id)
        if body.customer_ids is not None:
            statement = statement.where(col(Customer.id).in_(body.customer_ids))
        customers = list((await uow.session.exec(statement.order_by(col(Customer.reference)))).all())
        if body.customer_ids is not None and len(customers) != len(set(body.customer_ids)):
            raise NotFound("One of the customer_ids is not a customer of this tenant.")
        return customers, proposed
    return await customers_of(uow, replaced.id if replaced else sub.id), proposed


async def propose_change(uow: Uow, body: ChangeIn) -> SubprocessorChange:
    """Propose a change and prepare a notice for every affected customer; refuse a too-early effective date."""
    now = uow.now()
    if body.effective_at.tzinfo is None:
        raise Unprocessable(
            "effective_at needs a timezone (e.g. 2026-04-15T00:00:00Z).", errors=[{"field": "effective_at"}]
        )
    sub = await get_or_404(uow, Subprocessor, body.subprocessor_id)
    replaced = await get_or_404(uow, Subprocessor, body.replaces_id) if body.replaces_id else None
    if replaced is not None and replaced.status != "active":
        raise Unprocessable(f"Subprocessor {replaced.name} is {replaced.status}; only an active one can be replaced.")
    customers, proposed = await _affected(uow, body, sub, replaced)
    change_id = uuid.uuid4()
    draft = DomainChange(
        id=str(change_id),
        kind=body.kind,
        subprocessor=str(sub.id),
        affected_customers=frozenset(str(c.id) for c in customers),
        effective_at=body.effective_at,
        replaces=str(replaced.id) if replaced else None,
    )
    if body.effective_at < now:
        raise Unprocessable("effective_at is in the past.", errors=[{"field": "effective_at"}])
    # Delivery cannot happen before now: each customer's notice period counted from now is the floor.
    earliest = [CustomerNotice(draft.id, str(c.id), c.notice_period_days, now) for c in customers]
    validate_effective_date(draft, earliest, body.effective_at)
    open_ids = [sub.id] + ([replaced.id] if replaced else [])
    clash = await uow.session.exec(
        select(SubprocessorChange).where(
            col(SubprocessorChange.tenant_id) == uow.tenant_id,
            col(SubprocessorChange.state).not_in(FINAL_STATES),
            col(SubprocessorChange.subprocessor_id).in_(open_ids) | col(SubprocessorChange.replaces_id).in_(open_ids),
        )
    )
    if clash.first() is not None:
        raise Conflict("Another change of this subprocessor is still open; cancel it or wait until it is effective.")
    state = transition(ChangeState.PROPOSED, ChangeState.NOTICED)
    if body.kind in OBJECTABLE_KINDS:
        state = transition(state, ChangeState.OBJECTION_WINDOW_OPEN)
    change = SubprocessorChange(
        id=change_id,
        tenant_id=uow.tenant_id,
        kind=body.kind.value,
        subprocessor_id=sub.id,
        replaces_id=replaced.id if replaced else None,
        proposed=proposed,
        summary=body.summary,
        state=state.value,
        effective_at=body.effective_at,
        affected_customer_ids=sorted(draft.affected_customers),
        proposed_at=now,
        proposed_by=uow.actor,
    )
    uow.session.add(change)
    await uow.session.flush()
    shown = sub.model_dump() | proposed
    for customer in customers:
        await _issue_notice(uow, change, customer, shown, replaced)
    await uow.stage(
        SubprocessorChangeProposed(
            change_id=change.id,
            kind=body.kind.value,
            subprocessor_id=sub.id,
            replaces_subprocessor_id=change.replaces_id,
            planned_effective_at=change.effective_at,
            customer_ids=[c.reference for c in customers],
        ),
        subject=str(change.id),
    )
    audit_change(uow, change, "change.proposed", {"kind": change.kind, "customers": len(customers)})
    await uow.session.flush()
    return change


async def _issue_notice(
    uow: Uow,
    change: SubprocessorChange,
    customer: Customer,
    shown: dict[str, Any],
    replaced: Subprocessor | None,
) -> None:
    now = uow.now()
    notice = ChangeNotice(
        tenant_id=change.tenant_id,
        change_id=change.id,
        customer_id=customer.id,
        notice_period_days=customer.notice_period_days,
        content={},
        created_at=now,
        webhook_status="pending" if customer.webhook_url else "none",
        next_attempt_at=now if customer.webhook_url else None,
    )
    notice.content = notice_content(
        kind=ChangeKind(change.kind),
        summary=change.summary,
        subprocessor=shown,
        replaces=replaced.model_dump() if replaced else None,
        effective_at=change.effective_at,
        notice_period_days=customer.notice_period_days,
        customer={"id": str(customer.id), "reference": customer.reference, "name": customer.name},
        respond_url=notice_service.respond_url(uow, notice.id),
    )
    uow.session.add(notice)
    await uow.session.flush()
    # The window opens on a delivery, never on a request: the webhook's 2xx, or (for a customer without a
    # webhook) the notify service's NotificationDelivered for one of these emails (service/outcomes.py).
    await notice_service.request_emails(uow, notice)


def audit_change(uow: Uow, change: SubprocessorChange, action: str, detail: dict[str, Any]) -> None:
    """Append an audit entry about a change, by the unit's actor."""
    uow.audit(action, "subprocessor_change", change.id, detail)


async def list_changes(uow: Uow, states: Sequence[str], limit: int) -> list[ChangeOut]:
    """The tenant's changes, newest first, optionally in any of ``states``, with their notices and objections."""
    statement = select(SubprocessorChange).where(col(SubprocessorChange.tenant_id) == uow.tenant_id)
    if states:
        statement = statement.where(col(SubprocessorChange.state).in_(list(states)))
    rows = await uow.session.exec(statement.order_by(col(SubprocessorChange.proposed_at).desc()).limit(limit))
    return [await change_view(uow, change) for change in rows.all()]


async def objections_of(uow: Uow, change_id: uuid.UUID) -> list[Objection]:
    """The objections to a change, oldest first."""
    rows = await uow.session.exec(
        select(Objection).where(col(Objection.change_id) == change_id).order_by(col(Objection.raised_at))
    )
    return list(rows.all())


async def change_view(uow: Uow, change: SubprocessorChange) -> ChangeOut:
    """A change with its notices (and their history), objections and blocking reasons."""
    notices = await notice_service.notices_of(uow, change.id)
    objections = await objections_of(uow, change.id)
    reasons = (
        [] if change.state in FINAL_STATES else blocking_reasons(*to_domain(change, notices, objections), uow.now())
    )
    return ChangeOut.model_validate(
        {
            **change.model_dump(),
            "notices": [await notice_service.notice_view(uow, n) for n in notices],
            "objections": [from_row(ObjectionOut, o) for o in objections],
            "blocking_reasons": reasons,
        }
    )


async def cancel(uow: Uow, change: SubprocessorChange, reason: str, *, cause: str) -> SubprocessorChange:
    """Cancel a change: no further deliveries, open objections settled, the cancellation published."""
    now = uow.now()
    change.state = transition(ChangeState(change.state), ChangeState.CANCELLED).value
    change.closed_at, change.close_reason = now, reason
    uow.session.add(change)
    for objection in await objections_of(uow, change.id):
        if objection.resolution is None:
            objection.resolution, objection.resolved_at = ObjectionResolution.CHANGE_CANCELLED.value, now
            objection.resolution_note = reason
            uow.session.add(objection)
    for notice in await notice_service.notices_of(uow, change.id):
        if notice.webhook_status == "pending":
            notice.webhook_status, notice.next_attempt_at = "cancelled", None
            uow.session.add(notice)
    await uow.stage(SubprocessorChangeCancelled(change_id=change.id, cause=cause, cancelled_at=now), str(change.id))
    audit_change(uow, change, "change.cancelled", {"cause": cause})
    await uow.session.flush()
    return change
