"""Telling the customer of an authority's demand: at once by email through notify, or later for a recorded
legal reason (GDPR Art. 28(3)(a), https://eur-lex.europa.eu/eli/reg/2016/679/oj), with the reminder when that
reason runs out; and what the DSAR service learns of each disclosure (Art. 15(1)(c)).

The emails reuse the change notices' mechanism: one ``NotificationRequested`` per contact, claimed at
``/v1/notifications/{id}``, and the outcomes on the shared subscription, each logged in the demand's timeline.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import structlog
from sqlmodel import col, select

from services.subprocessor.domain.demands import DEMAND_TEMPLATE, Deferral, validate_deferral
from services.subprocessor.models import (
    AuthorityDemand,
    Customer,
    CustomerContact,
    DemandDeferral,
    DemandDisclosure,
    DemandLogEntry,
    DemandSubject,
)
from services.subprocessor.schemas import DeferralIn, NotificationClaimOut
from services.subprocessor.service import Job, Uow
from services.subprocessor.service.notices import email_contacts
from shared.bus.notifications import Outcome
from shared.events.catalogue.subprocessor import AuthorityDemandDeferralLapsed, PersonalDataDisclosed
from shared.rules.errors import Conflict, Gone
from shared.runtime.db import as_json
from shared.runtime.jobs import claim
from shared.runtime.repository import get_or_404

log = structlog.get_logger("privops.subprocessor.demands")

REMIND_ACTOR = "job:subprocessor.demand_deferrals"


def log_step(
    uow: Uow, demand: AuthorityDemand, kind: str, outcome: str, *, at: datetime | None = None, **fields: Any
) -> None:
    """Append one step to a demand's timeline, by the unit's actor."""
    fields["detail"] = as_json(fields.get("detail", {}))
    uow.session.add(
        DemandLogEntry(
            tenant_id=demand.tenant_id,
            demand_id=demand.id,
            at=at or uow.now(),
            kind=kind,
            outcome=outcome,
            actor=uow.actor,
            **fields,
        )
    )


async def open_deferral(uow: Uow, demand: AuthorityDemand) -> DemandDeferral | None:
    """The demand's deferral still in force (not ended by a notification or a newer reason), if any."""
    rows = await uow.session.exec(
        select(DemandDeferral).where(col(DemandDeferral.demand_id) == demand.id, col(DemandDeferral.ended_at).is_(None))
    )
    return rows.first()


async def notify_customer(uow: Uow, demand: AuthorityDemand) -> int:
    """Email the demand to every contact of its customer now; a deferral in force ends (a person decided so)."""
    if demand.notification == "requested":
        raise Conflict("The customer was already told of this demand.")
    now = uow.now()
    if (deferral := await open_deferral(uow, demand)) is not None:
        deferral.ended_at = now
        uow.session.add(deferral)

    def record(notification_id: uuid.UUID, contact: CustomerContact) -> None:
        log_step(
            uow,
            demand,
            "email",
            "requested",
            notification_id=notification_id,
            contact_id=contact.id,
            detail={"recipient_ref": contact.subject_ref},
        )

    count = await email_contacts(uow, demand.customer_id, DEMAND_TEMPLATE, record)
    demand.notification = "requested" if count else "no_contact"
    demand.notification_requested_at = now if count else None
    uow.session.add(demand)
    if not count:
        log_step(uow, demand, "notification", "no_contact")
        log.warning("subprocessor.demand.no_contact", demand_id=str(demand.id))
    await publish_disclosures(uow, demand)
    return count


async def defer(uow: Uow, demand: AuthorityDemand, body: DeferralIn) -> DemandDeferral:
    """Record a legal reason not to tell the customer yet; it replaces the one in force, if any."""
    if demand.notification == "requested":
        raise Conflict("The customer was already told of this demand; there is nothing left to defer.")
    now = uow.now()
    checked = validate_deferral(Deferral(body.reason, body.instrument, body.until), now)
    if (previous := await open_deferral(uow, demand)) is not None:
        previous.ended_at = now
        uow.session.add(previous)
    deferral = DemandDeferral(
        tenant_id=uow.tenant_id,
        demand_id=demand.id,
        reason=checked.reason,
        instrument=checked.instrument,
        until=checked.until,
        recorded_by=uow.actor,
        recorded_at=now,
    )
    uow.session.add(deferral)
    demand.notification = "deferred"
    uow.session.add(demand)
    log_step(uow, demand, "notification", "deferred", detail={"instrument": checked.instrument, "until": checked.until})
    uow.audit("demand.notification_deferred", "authority_demand", demand.id, {"until": checked.until})
    await uow.session.flush()
    return deferral


async def publish_disclosures(uow: Uow, demand: AuthorityDemand) -> int:
    """Tell the DSAR service of the demand's disclosures not told yet; held back while the customer may not know."""
    if demand.notification == "deferred":
        return 0
    rows = await uow.session.exec(
        select(DemandDisclosure).where(
            col(DemandDisclosure.demand_id) == demand.id, col(DemandDisclosure.published_at).is_(None)
        )
    )
    now, count = uow.now(), 0
    for disclosure in rows.all():
        event = PersonalDataDisclosed(
            disclosure_id=disclosure.id,
            subject_ref=disclosure.subject_ref,
            recipient=demand.authority_name,
            recipient_country=demand.authority_country,
            categories=disclosure.categories,
            disclosed_at=disclosure.disclosed_at,
            demand_id=demand.id,
        )
        await uow.stage(event, subject=disclosure.subject_ref)
        disclosure.published_at = now
        uow.session.add(disclosure)
        count += 1
    return count


async def remind_lapsed_deferrals(ctx: Job) -> int:
    """Periodic job: a deferral whose end has passed alerts the privacy team once (tell the customer, or re-defer)."""
    now = ctx.clock.now()
    async with ctx.database.session() as session:
        statement = (
            select(DemandDeferral)
            .where(
                col(DemandDeferral.ended_at).is_(None),
                col(DemandDeferral.reminded_at).is_(None),
                col(DemandDeferral.until) <= now,
            )
            .order_by(col(DemandDeferral.until))
        )
        deferrals = await claim(session, statement, limit=50)
        for deferral in deferrals:
            uow = ctx.unit_of_work(session, deferral.tenant_id, REMIND_ACTOR)
            demand = await get_or_404(uow, AuthorityDemand, deferral.demand_id)
            deferral.reminded_at = now
            session.add(deferral)
            log_step(uow, demand, "notification", "deferral_lapsed", detail={"until": deferral.until})
            event = AuthorityDemandDeferralLapsed(
                demand_id=demand.id, deferral_id=deferral.id, until=deferral.until, lapsed_at=now
            )
            await uow.stage(event, subject=str(demand.id))
        return len(deferrals)


async def _requested(uow: Uow, notification_id: uuid.UUID) -> DemandLogEntry | None:
    rows = await uow.session.exec(
        select(DemandLogEntry).where(
            col(DemandLogEntry.notification_id) == notification_id, col(DemandLogEntry.tenant_id) == uow.tenant_id
        )
    )
    return rows.first()


async def claim_notification(uow: Uow, notification_id: uuid.UUID) -> NotificationClaimOut | None:
    """The address, template and values of one demand email (None: not a demand's notification)."""
    entry = await _requested(uow, notification_id)
    if entry is None:
        return None
    contact = await uow.session.get(CustomerContact, entry.contact_id) if entry.contact_id else None
    if contact is None or contact.restricted:
        raise Gone("The contact of this notification was erased or restricted; do not send it.")
    demand = await get_or_404(uow, AuthorityDemand, entry.demand_id)
    customer = await get_or_404(uow, Customer, demand.customer_id)
    subjects = await uow.session.exec(select(DemandSubject.id).where(col(DemandSubject.demand_id) == demand.id))
    return NotificationClaimOut.model_validate(
        {
            "notification_id": notification_id,
            "channel": "email",
            "template": DEMAND_TEMPLATE,
            "locale": contact.locale,
            "to": contact.email,
            "to_name": customer.name,
            "context": {
                "customer": customer.name,
                "authority": demand.authority_name,
                "authority_country": demand.authority_country,
                "legal_basis": demand.legal_basis,
                "legal_reference": demand.legal_reference,
                "authority_reference": demand.authority_reference,
                "received_at": demand.received_at,
                "subjects": len(subjects.all()),
                "data_categories": demand.data_categories,
                "demand_id": demand.id,
            },
        }
    )


async def record_outcome(uow: Uow, outcome: Outcome) -> bool:
    """Log what became of a demand email (once); the first delivery is when the customer was told.

    False when the notification is not a demand's (it is a change notice's).
    """
    entry = await _requested(uow, outcome.notification_id)
    if entry is None:
        return False
    demand = await get_or_404(uow, AuthorityDemand, entry.demand_id, lock=True)
    seen = await uow.session.exec(
        select(DemandLogEntry.id).where(
            col(DemandLogEntry.demand_id) == demand.id,
            col(DemandLogEntry.kind) == "email",
            col(DemandLogEntry.outcome) == outcome.kind,
            DemandLogEntry.detail["notification_id"].astext == str(outcome.notification_id),
        )
    )
    if seen.first() is not None:
        return True  # the same outcome told twice
    detail: dict[str, Any] = {"notification_id": outcome.notification_id, "attempts": outcome.attempts}
    if outcome.reason is not None:
        detail["reason"] = outcome.reason
    log_step(uow, demand, "email", outcome.kind, at=outcome.at, contact_id=entry.contact_id, detail=detail)
    if outcome.kind == "delivered" and demand.customer_notified_at is None:
        demand.customer_notified_at = outcome.at
        uow.session.add(demand)
    elif outcome.kind == "failed":
        log.warning("subprocessor.demand.email_failed", demand_id=str(demand.id))
    await uow.session.flush()
    return True
