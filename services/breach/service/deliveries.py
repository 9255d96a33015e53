"""Deliveries of sent notices: the notify service's claim check and outcomes, and outcomes a person records."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import structlog
from sqlmodel import col, select

from services.breach.domain.deliveries import FINAL, DeliveryStatus, after_outcome
from services.breach.domain.individuals import pick_language
from services.breach.domain.notices import NoticeKind
from services.breach.models import Delivery, Incident, Notice, TenantSettings
from services.breach.schemas import ClaimOut, DeliveryUpdateIn
from services.breach.service import Uow, approvals, contacts, individuals
from services.breach.service.individuals import customer_name
from services.breach.service.settings import current
from services.breach.service.timeline import note
from shared.bus.notifications import Outcome
from shared.rules.errors import Gone, NotFound
from shared.runtime.db import one_of
from shared.runtime.repository import find, get_or_404

log = structlog.get_logger("privops.breach.deliveries")


async def get_delivery(uow: Uow, notice: Notice, delivery_id: uuid.UUID) -> Delivery:
    """One delivery of a notice of the tenant; 404 when it belongs to another notice."""
    delivery = await find(uow, Delivery, delivery_id)
    if delivery is None or delivery.notice_id != notice.id:
        raise NotFound(f"No delivery {delivery_id} for notice {notice.id}.")
    return delivery


async def deliveries_of(uow: Uow, notice_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Delivery]]:
    """The deliveries of some notices, by notice."""
    found: dict[uuid.UUID, list[Delivery]] = {i: [] for i in notice_ids}
    if notice_ids:
        rows = await uow.session.exec(
            select(Delivery).where(one_of(col(Delivery.notice_id), notice_ids)).order_by(col(Delivery.requested_at))
        )
        for row in rows.all():
            found[row.notice_id].append(row)
    return found


async def update_delivery(uow: Uow, notice_id: uuid.UUID, delivery_id: uuid.UUID, body: DeliveryUpdateIn) -> Delivery:
    """Record a delivery outcome by hand (a person confirming a portal submission, or a receipt by other means)."""
    notice = await get_or_404(uow, Notice, notice_id)
    delivery = await get_delivery(uow, notice, delivery_id)
    now = uow.now()
    ended = DeliveryStatus(delivery.status) in FINAL
    delivery.status, delivery.detail, delivery.updated_at = body.status, body.detail, now
    if body.status == "delivered":
        delivery.delivered_at = delivery.delivered_at or now
    elif body.status == "failed":
        delivery.failed_at = now
    uow.session.add(delivery)
    incident = await get_or_404(uow, Incident, notice.incident_id)
    note(uow, incident, "notice.delivery", {"notice_id": notice.id, "delivery_id": delivery.id, "status": body.status})
    await uow.session.flush()
    if not ended:
        await individuals.settle(uow, incident, notice)
    return delivery


async def claim(uow: Uow, notice_id: uuid.UUID, delivery_id: uuid.UUID) -> ClaimOut:
    """Where one delivery of a notice goes and what the template says; 410 when there is nowhere to send it."""
    notice = await get_or_404(uow, Notice, notice_id)
    delivery = await get_delivery(uow, notice, delivery_id)
    incident = await get_or_404(uow, Incident, notice.incident_id)
    settings = await current(uow)
    kind = NoticeKind(notice.kind)
    body, behalf = notice.body, None
    if kind is NoticeKind.INDIVIDUALS:
        person = await contacts.address_of(uow, incident.id, delivery.recipient_ref)
        if person is None:
            raise Gone(_nowhere(kind, notice))
        to, to_name = person["email"], person.get("name")
        locale = pick_language(person.get("locale"), settings.default_locale if settings else None)
        body = notice.bodies.get(locale) or notice.body
        behalf = customer_name(settings, notice.customer_id) if notice.customer_id else None
    else:
        # Addresses are read now, not when the notice was sent: a retry after the settings were fixed reaches them.
        to, to_name, locale = _address(kind, notice, settings)
    if to is None:
        raise Gone(_nowhere(kind, notice))
    contact = notice.contact or {}
    return ClaimOut.model_validate(
        {
            "notification_id": delivery.id,
            "channel": delivery.channel,
            "template": f"breach.notice.{kind.value}",
            "locale": locale or (settings.default_locale if settings else None),
            "to": to,
            "to_name": to_name,
            "context": {
                "reference": incident.reference,
                "incident_title": incident.title,
                "stage": notice.stage,
                "kind": kind.value,
                "body": body,
                "contact": {k: contact.get(k) for k in ("name", "email", "phone")},
                "jurisdiction": notice.jurisdiction,
                "on_behalf_of": behalf,
                "person_name": to_name if kind is NoticeKind.INDIVIDUALS else None,
            },
        }
    )


def _address(kind: NoticeKind, notice: Notice, settings: TenantSettings | None) -> tuple[str | None, str | None, Any]:
    """``(to, to_name, locale)`` of a notice from the tenant's settings."""
    if settings is None or kind is NoticeKind.INDIVIDUALS:
        return None, None, None
    if kind is NoticeKind.AUTHORITY:
        entry = settings.authorities.get(notice.jurisdiction or "") or {}
    else:
        entry = settings.customers.get(notice.customer_id or "") or {}
    return entry.get("email"), entry.get("name"), entry.get("locale")


def _nowhere(kind: NoticeKind, notice: Notice) -> str:
    """Why a delivery cannot be sent, for the person reading the failed message."""
    if kind is NoticeKind.AUTHORITY:
        return (
            f"No email address is set for the supervisory authority of {notice.jurisdiction}: "
            "add it to the breach settings (PUT /v1/settings, authorities) and send a follow-up, "
            "or submit the notice on the authority's portal and record the submission."
        )
    if kind is NoticeKind.CONTROLLER:
        return (
            f"No notice contact is set for customer {notice.customer_id}: add it to the breach settings "
            "(PUT /v1/settings, customers), or tell the customer by other means and record the delivery."
        )
    return (
        "No address is kept for this person any more: it was purged once every delivery of the notice ended or "
        "the incident closed, or erased at the person's request; tell them by other means and record the delivery."
    )


async def record_outcome(
    uow: Uow, notification_id: uuid.UUID, outcome: DeliveryStatus, *, at: datetime, attempts: int, reason: str | None
) -> Delivery | None:
    """Apply a notify outcome to the delivery it concerns; a stale or repeated one changes nothing."""
    delivery = await find(uow, Delivery, notification_id, lock=True)
    if delivery is None:
        log.warning("breach.delivery.unknown", notification_id=str(notification_id), outcome=outcome.value)
        return None
    ended = DeliveryStatus(delivery.status) in FINAL
    status = after_outcome(delivery.status, outcome)
    if status is None:
        log.info("breach.delivery.stale_outcome", delivery_id=str(delivery.id), status=delivery.status, outcome=outcome)
        return None
    delivery.status, delivery.attempts, delivery.updated_at = status.value, max(delivery.attempts, attempts), uow.now()
    if status is DeliveryStatus.SENT:
        delivery.sent_at = at
    elif status is DeliveryStatus.DELIVERED:
        delivery.sent_at, delivery.delivered_at = delivery.sent_at or at, at
    else:
        delivery.failed_at, delivery.detail = at, reason
    uow.session.add(delivery)
    notice = await get_or_404(uow, Notice, delivery.notice_id)
    incident = await get_or_404(uow, Incident, notice.incident_id)
    detail: dict[str, Any] = {
        "notice_id": notice.id,
        "delivery_id": delivery.id,
        "kind": notice.kind,
        "status": status.value,
        "at": at,
        "attempts": delivery.attempts,
    }
    if reason is not None:
        detail["reason"] = reason
    note(uow, incident, "notice.delivery", detail)
    await uow.session.flush()
    if not ended:
        await individuals.settle(uow, incident, notice)
    return delivery


async def apply_outcome(uow: Uow, outcome: Outcome) -> None:
    """A notice's delivery becomes sent, delivered or failed (with the reason), on the notice and the timeline."""
    status = DeliveryStatus(outcome.kind)
    if await approvals.record_mail_outcome(uow, outcome):
        return
    await record_outcome(
        uow, outcome.notification_id, status, at=outcome.at, attempts=outcome.attempts, reason=outcome.reason
    )
