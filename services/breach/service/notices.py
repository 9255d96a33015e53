"""Notices: drafts from the incident's facts, sending (frozen, with deliveries through notification events)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.breach.domain.clocks import Audience, require_delay_reasons
from services.breach.domain.errors import NoticeFrozen
from services.breach.domain.incidents import IncidentStatus, require_open
from services.breach.domain.notices import (
    BreachFacts,
    ContactPoint,
    NoticeDraft,
    NoticeKind,
    NoticeStage,
    build_authority_notice,
    build_controller_notice,
    build_individuals_notice,
    render_text,
)
from services.breach.models import AffectedSubject, Deadline, Delivery, Incident, Notice
from services.breach.schemas import DeliveryUpdateIn, NoticeIn
from services.breach.service import Uow
from services.breach.service.deadlines import OPEN, deadlines_of, mark_met, sync_deadlines, to_domain
from services.breach.service.timeline import note
from services.breach.settings import BreachSettings
from shared.events.catalogue.breach import BreachNoticeSent
from shared.events.catalogue.notifications import NotificationRequested
from shared.rules.errors import NotFound, Unprocessable
from shared.runtime.repository import find, get_or_404

# Which authority clock a notice of each stage meets, in order of preference.
AUTHORITY_STEPS = {
    NoticeStage.INITIAL: (Audience.EARLY_WARNING, Audience.AUTHORITY),
    NoticeStage.FOLLOW_UP: (Audience.INTERMEDIATE_REPORT, Audience.FOLLOW_UP, Audience.AUTHORITY),
    NoticeStage.FINAL: (Audience.FINAL_REPORT, Audience.AUTHORITY, Audience.FOLLOW_UP),
}
CHANNEL = {NoticeKind.AUTHORITY: "email", NoticeKind.CONTROLLER: "webhook", NoticeKind.INDIVIDUALS: "email"}


def facts_of(incident: Incident, settings: BreachSettings) -> BreachFacts:
    """What the notices say, from the incident's current facts and the configured contact point."""
    nature = f"Loss of {', '.join(incident.nature)}: {incident.description}"
    return BreachFacts(
        reference=incident.reference,
        aware_at=incident.aware_at,
        nature=nature,
        plain_summary=incident.plain_summary,
        data_subject_categories=tuple(incident.data_subject_categories),
        approximate_data_subjects=incident.approximate_subjects,
        record_categories=tuple(incident.data_categories),
        approximate_records=incident.approximate_records,
        contact=ContactPoint(settings.dpo_name, email=settings.dpo_email, phone=settings.dpo_phone),
        likely_consequences=incident.likely_consequences,
        measures_taken=tuple(incident.measures_taken),
        measures_proposed=tuple(incident.measures_proposed),
        advice=tuple(incident.advice),
    )


async def draft(uow: Uow, incident_id: uuid.UUID, body: NoticeIn) -> Notice:
    """Draft a notice from the incident's facts; refused when the required contents are missing at that stage."""
    session, settings = uow.session, uow.settings
    incident = await get_or_404(uow, Incident, incident_id, lock=True)
    require_open(incident.status)
    previous = await _previous(session, incident, body)
    previous_ref = (
        f"{incident.reference} {previous.stage} notice of {previous.sent_at:%Y-%m-%d %H:%M} UTC"
        if previous and previous.sent_at
        else None
    )
    facts = facts_of(incident, settings)
    built: NoticeDraft
    if body.kind is NoticeKind.AUTHORITY:
        if body.jurisdiction is None:
            raise Unprocessable("An authority notice names its jurisdiction.", errors=[{"field": "jurisdiction"}])
        clocks = [d for d in await deadlines_of(session, incident) if d.jurisdiction == body.jurisdiction]
        recipient = next((d.recipient for d in clocks if d.audience == Audience.AUTHORITY), "supervisory authority")
        built = build_authority_notice(
            facts,
            recipient=recipient,
            stage=body.stage,
            to_follow=body.to_follow,
            delay_reasons=body.delay_reasons,
            previous_reference=previous_ref,
        )
    elif body.kind is NoticeKind.CONTROLLER:
        if incident.role != "processor" or body.customer_id not in incident.customers:
            raise Unprocessable(
                "A controller notice goes to one of the incident's customers, when we act as their processor.",
                errors=[{"field": "customer_id"}],
            )
        built = build_controller_notice(
            facts,
            controller=body.customer_id,
            processor=settings.organisation,
            stage=body.stage,
            to_follow=body.to_follow,
            delay_reasons=body.delay_reasons,
            previous_reference=previous_ref,
        )
    else:
        built = build_individuals_notice(facts)
    notice = Notice(
        tenant_id=incident.tenant_id,
        incident_id=incident.id,
        kind=built.kind.value,
        stage=built.stage.value,
        jurisdiction=body.jurisdiction.value if body.jurisdiction and body.kind is NoticeKind.AUTHORITY else None,
        customer_id=body.customer_id if body.kind is NoticeKind.CONTROLLER else None,
        recipient=built.recipient,
        sections=[
            {"field": s.field.value, "heading": s.heading, "text": s.text, "to_follow": s.to_follow}
            for s in built.sections
        ],
        body=render_text(built),
        to_follow={k.value: v for k, v in body.to_follow.items()},
        delay_reasons=built.delay_reasons,
        previous_notice_id=previous.id if previous else None,
        created_by=uow.actor,
        created_at=uow.now(),
    )
    session.add(notice)
    await session.flush()
    note(uow, incident, "notice.drafted", {"notice_id": notice.id, "kind": notice.kind, "stage": notice.stage})
    return notice


async def send(uow: Uow, notice_id: uuid.UUID, delay_reasons: str | None) -> Notice:
    """Freeze a draft and hand it over: one notification event per recipient; late notices need reasons."""
    session = uow.session
    notice = await get_or_404(uow, Notice, notice_id, lock=True)
    incident = await get_or_404(uow, Incident, notice.incident_id, lock=True)
    require_open(incident.status)
    if notice.status != "draft":
        raise NoticeFrozen(f"notice {notice.id} was sent at {notice.sent_at}; draft a follow-up instead")
    now = uow.now()
    reasons = delay_reasons or notice.delay_reasons
    met = await _deadlines_met(session, incident, notice)
    for row in met:
        require_delay_reasons(to_domain(row), now, reasons)
    recipients = await _recipients(session, incident, notice)
    notice.status, notice.sent_at, notice.sent_by, notice.delay_reasons = "sent", now, uow.actor, reasons
    notice.late = any(row.due_at is not None and now > row.due_at for row in met)
    session.add(notice)
    await mark_met(session, await _fully_met(session, incident, notice, met), at=now, notice_id=notice.id)
    await sync_deadlines(uow, incident)  # clocks that count from this notice now start
    kind = NoticeKind(notice.kind)
    for recipient_ref in recipients:
        delivery = Delivery(
            tenant_id=incident.tenant_id,
            notice_id=notice.id,
            recipient_ref=recipient_ref,
            channel=CHANNEL[kind],
            requested_at=now,
            updated_at=now,
        )
        session.add(delivery)
        await uow.stage(
            NotificationRequested(
                notification_id=delivery.id,
                channel=CHANNEL[kind],
                template=f"breach.notice.{kind.value}",
                recipient_ref=recipient_ref,
                claim_url=uow.url(f"/v1/notices/{notice.id}/deliveries/{delivery.id}/claim"),
            ),
            recipient_ref if kind is NoticeKind.INDIVIDUALS else str(incident.id),
        )
    if incident.status != IncidentStatus.NOTIFYING:
        incident.status = IncidentStatus.NOTIFYING
    note(
        uow,
        incident,
        "notice.sent",
        {
            "notice_id": notice.id,
            "kind": notice.kind,
            "stage": notice.stage,
            "late": notice.late,
            "recipients": len(recipients),
            "delay_reasons": reasons,
        },
    )
    await uow.stage(
        BreachNoticeSent(
            incident_id=incident.id,
            notice_id=notice.id,
            kind=kind.value,
            stage=notice.stage,
            jurisdiction=notice.jurisdiction,
            recipients=len(recipients),
            late=notice.late,
            sent_at=now,
        ),
        str(incident.id),
    )
    await session.flush()
    return notice


async def update_delivery(uow: Uow, notice_id: uuid.UUID, delivery_id: uuid.UUID, body: DeliveryUpdateIn) -> Delivery:
    """Record a delivery outcome (from the sender, or a person confirming a portal submission)."""
    notice = await get_or_404(uow, Notice, notice_id)
    delivery = await get_delivery(uow, notice, delivery_id)
    delivery.status, delivery.detail, delivery.updated_at = body.status, body.detail, uow.now()
    uow.session.add(delivery)
    incident = await get_or_404(uow, Incident, notice.incident_id)
    note(uow, incident, "notice.delivery", {"notice_id": notice.id, "delivery_id": delivery.id, "status": body.status})
    return delivery


async def get(uow: Uow, notice_id: uuid.UUID) -> Notice:
    """A notice of the tenant (404 when missing or another tenant's)."""
    return await get_or_404(uow, Notice, notice_id)


async def get_delivery(uow: Uow, notice: Notice, delivery_id: uuid.UUID) -> Delivery:
    """One delivery of a notice of the tenant; 404 when it belongs to another notice."""
    delivery = await find(uow, Delivery, delivery_id)
    if delivery is None or delivery.notice_id != notice.id:
        raise NotFound(f"No delivery {delivery_id} for notice {notice.id}.")
    return delivery


async def claim_check(uow: Uow, notice_id: uuid.UUID, delivery_id: uuid.UUID) -> dict[str, Any]:
    """The message behind a notification event; the sender resolves the address from the recipient reference."""
    notice = await get_or_404(uow, Notice, notice_id)
    delivery = await get_delivery(uow, notice, delivery_id)
    return {
        "notification_id": str(delivery.id),
        "recipient_ref": delivery.recipient_ref,
        "channel": delivery.channel,
        "subject": f"Personal data breach {notice.kind} notice ({notice.stage})",
        "body": notice.body,
    }


async def deliveries_of(uow: Uow, notice_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Delivery]]:
    """The deliveries of some notices, by notice."""
    found: dict[uuid.UUID, list[Delivery]] = {i: [] for i in notice_ids}
    if notice_ids:
        rows = await uow.session.exec(select(Delivery).where(col(Delivery.notice_id).in_(notice_ids)))
        for row in rows.all():
            found[row.notice_id].append(row)
    return found


async def notices_of(uow: Uow, incident_id: uuid.UUID) -> list[Notice]:
    """Every notice of an incident, oldest first."""
    await get_or_404(uow, Incident, incident_id)
    rows = await uow.session.exec(
        select(Notice).where(col(Notice.incident_id) == incident_id).order_by(col(Notice.created_at))
    )
    return list(rows.all())


async def _previous(session: AsyncSession, incident: Incident, body: NoticeIn) -> Notice | None:
    statement = select(Notice).where(
        col(Notice.incident_id) == incident.id, col(Notice.kind) == body.kind.value, col(Notice.status) == "sent"
    )
    if body.kind is NoticeKind.AUTHORITY and body.jurisdiction:
        statement = statement.where(col(Notice.jurisdiction) == body.jurisdiction.value)
    if body.kind is NoticeKind.CONTROLLER:
        statement = statement.where(col(Notice.customer_id) == body.customer_id)
    return (await session.exec(statement.order_by(col(Notice.sent_at).desc()).limit(1))).first()


async def _deadlines_met(session: AsyncSession, incident: Incident, notice: Notice) -> list[Deadline]:
    """The open clocks this notice answers (an authority notice answers one step of its jurisdiction)."""
    open_rows = [d for d in await deadlines_of(session, incident) if d.status == OPEN]
    kind = NoticeKind(notice.kind)
    if kind is NoticeKind.INDIVIDUALS:
        return [d for d in open_rows if d.audience == Audience.INDIVIDUALS]
    if kind is NoticeKind.CONTROLLER:
        return [d for d in open_rows if d.audience == Audience.CONTROLLER]
    mine = {d.audience: d for d in open_rows if d.jurisdiction == notice.jurisdiction}
    step = next((mine[a] for a in AUTHORITY_STEPS[NoticeStage(notice.stage)] if a in mine), None)
    return [step] if step else []


async def _fully_met(session: AsyncSession, incident: Incident, notice: Notice, met: list[Deadline]) -> list[Deadline]:
    """A controller clock is met once every affected customer has been told; others by this notice alone."""
    if notice.kind != NoticeKind.CONTROLLER:
        return met
    rows = await session.exec(
        select(Notice.customer_id).where(
            col(Notice.incident_id) == incident.id,
            col(Notice.kind) == NoticeKind.CONTROLLER.value,
            col(Notice.status) == "sent",
        )
    )
    told = set(rows.all()) | {notice.customer_id}
    return met if set(incident.customers) <= told else []


async def _recipients(session: AsyncSession, incident: Incident, notice: Notice) -> list[str]:
    kind = NoticeKind(notice.kind)
    if kind is NoticeKind.AUTHORITY:
        return [f"authority:{notice.jurisdiction}"]
    if kind is NoticeKind.CONTROLLER:
        return [str(notice.customer_id)]
    rows = await session.exec(
        select(AffectedSubject.subject_ref).where(col(AffectedSubject.incident_id) == incident.id)
    )
    refs = list(rows.all())
    if not refs:
        raise Unprocessable("Attach the subject references of the people affected before notifying them.")
    return refs
