"""Notices: drafts from the incident's facts, sending (frozen, with deliveries through notification events)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.breach.domain.clocks import Audience, is_late, require_delay_reasons
from services.breach.domain.errors import MissingContactPoint, NoticeFrozen
from services.breach.domain.incidents import IncidentStatus, require_open
from services.breach.domain.individuals import ApprovalStatus, approval_required, require_approval
from services.breach.domain.notices import (
    BreachFacts,
    ContactPoint,
    NoticeDraft,
    NoticeKind,
    NoticeStage,
    build_authority_notice,
    build_controller_notice,
    render_text,
)
from services.breach.models import AffectedSubject, Deadline, Delivery, Incident, Notice, TenantSettings
from services.breach.schemas import NoticeIn
from services.breach.service import Uow, individuals
from services.breach.service.deadlines import OPEN, deadlines_of, mark_met, sync_deadlines, to_domain
from services.breach.service.settings import contact_point, current
from services.breach.service.timeline import note
from shared.events.catalogue.breach import BreachNoticeSent
from shared.events.catalogue.notifications import NotificationRequested
from shared.rules.errors import Unprocessable
from shared.runtime.repository import get_or_404

# Which authority clock a notice of each stage meets, in order of preference.
AUTHORITY_STEPS = {
    NoticeStage.INITIAL: (Audience.EARLY_WARNING, Audience.AUTHORITY),
    NoticeStage.FOLLOW_UP: (Audience.INTERMEDIATE_REPORT, Audience.FOLLOW_UP, Audience.AUTHORITY),
    NoticeStage.FINAL: (Audience.FINAL_REPORT, Audience.AUTHORITY, Audience.FOLLOW_UP),
}
# An authority with a portal and no email is told by a person, who records the submission afterwards.
PORTAL = "portal"


def facts_of(incident: Incident, contact: ContactPoint | None) -> BreachFacts:
    """What the notices say, from the incident's current facts and the tenant's contact point."""
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
        contact=contact,
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
    tenant = await current(uow)
    contact = contact_point(tenant)
    if contact is None:
        raise MissingContactPoint(
            "every notice names the DPO or other contact point with their contact details (GDPR Art. 33(3)(b)): "
            "set it first with PUT /v1/settings (contact: name, email or phone)"
        )
    facts = facts_of(incident, contact)
    built: NoticeDraft
    bodies: dict[str, str] = {}
    customer: str | None = None
    if body.kind is NoticeKind.AUTHORITY:
        if body.jurisdiction is None:
            raise Unprocessable("An authority notice names its jurisdiction.", errors=[{"field": "jurisdiction"}])
        clocks = [d for d in await deadlines_of(session, incident) if d.jurisdiction == body.jurisdiction]
        named = (tenant.authorities.get(body.jurisdiction.value) or {}).get("name") if tenant else None
        recipient = named or next(
            (d.recipient for d in clocks if d.audience == Audience.AUTHORITY), "supervisory authority"
        )
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
        customer = individuals.on_behalf_of(incident, tenant, body)
        built, bodies = individuals.drafts(facts, body, tenant, customer)
    notice = Notice(
        tenant_id=incident.tenant_id,
        incident_id=incident.id,
        kind=built.kind.value,
        stage=built.stage.value,
        jurisdiction=body.jurisdiction.value if body.jurisdiction and body.kind is NoticeKind.AUTHORITY else None,
        customer_id=body.customer_id if body.kind is NoticeKind.CONTROLLER else customer,
        recipient=built.recipient,
        contact={"name": contact.name, "email": contact.email, "phone": contact.phone, "role": contact.role},
        sections=[
            {"field": s.field.value, "heading": s.heading, "text": s.text, "to_follow": s.to_follow}
            for s in built.sections
        ],
        body=render_text(built),
        bodies=bodies,
        approval_status=ApprovalStatus.PENDING if approval_required(incident.role, built.kind) else None,
        to_follow={k.value: v for k, v in body.to_follow.items()},
        delay_reasons=built.delay_reasons,
        previous_notice_id=previous.id if previous else None,
        created_by=uow.actor,
        created_at=uow.now(),
    )
    # Late from the draft on: the clocks it answers are those it would meet if sent now.
    notice.late = _late(await _deadlines_met(session, incident, notice), notice.created_at)
    session.add(notice)
    await session.flush()
    note(uow, incident, "notice.drafted", {"notice_id": notice.id, "kind": notice.kind, "stage": notice.stage})
    return notice


async def sendable(uow: Uow, notice_id: uuid.UUID) -> tuple[Notice, Incident]:
    """A draft that may go out now, with its incident (both locked): open, not sent, approved when it must be."""
    notice = await get_or_404(uow, Notice, notice_id, lock=True)
    incident = await get_or_404(uow, Incident, notice.incident_id, lock=True)
    require_open(incident.status)
    if notice.status != "draft":
        raise NoticeFrozen(f"notice {notice.id} was sent at {notice.sent_at}; draft a follow-up instead")
    require_approval(incident.role, notice.kind, notice.approval_status)
    return notice, incident


async def freeze(uow: Uow, incident: Incident, notice: Notice, reasons: str | None) -> None:
    """Mark a notice sent now: late ones need reasons; the clocks it answers are met, those it starts begin."""
    session, now = uow.session, uow.now()
    met = await _deadlines_met(session, incident, notice)
    for row in met:
        require_delay_reasons(to_domain(row), now, reasons)
    notice.status, notice.sent_at, notice.sent_by, notice.delay_reasons = "sent", now, uow.actor, reasons
    notice.late = _late(met, now)
    session.add(notice)
    await mark_met(session, await _fully_met(session, incident, notice, met), at=now, notice_id=notice.id)
    await sync_deadlines(uow, incident)  # clocks that count from this notice now start
    if incident.status != IncidentStatus.NOTIFYING:
        incident.status = IncidentStatus.NOTIFYING


async def send(uow: Uow, notice_id: uuid.UUID, delay_reasons: str | None) -> Notice:
    """Freeze a draft and hand it over: one notification event per recipient; late notices need reasons."""
    session = uow.session
    notice, incident = await sendable(uow, notice_id)
    now = uow.now()
    reasons = delay_reasons or notice.delay_reasons
    recipients = await _recipients(session, incident, notice)
    await freeze(uow, incident, notice, reasons)
    kind = NoticeKind(notice.kind)
    tenant = await current(uow)
    portal = _portal_only(kind, notice, tenant)
    for recipient_ref in recipients if kind is not NoticeKind.INDIVIDUALS else ():
        delivery = Delivery(
            tenant_id=incident.tenant_id,
            notice_id=notice.id,
            recipient_ref=recipient_ref,
            channel=PORTAL if portal else "email",
            detail=f"Submit the notice on {portal}, then record the submission." if portal else None,
            requested_at=now,
            updated_at=now,
        )
        session.add(delivery)
        if portal:
            continue
        await uow.stage(
            NotificationRequested(
                notification_id=delivery.id,
                channel="email",
                template=f"breach.notice.{kind.value}",
                recipient_ref=recipient_ref,
                claim_url=uow.url(f"/v1/notices/{notice.id}/deliveries/{delivery.id}/claim"),
            ),
            str(incident.id),
        )
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
    if kind is NoticeKind.INDIVIDUALS:
        await individuals.deliver(uow, incident, notice, recipients, tenant.default_locale if tenant else None)
    await session.flush()
    return notice


async def get(uow: Uow, notice_id: uuid.UUID) -> Notice:
    """A notice of the tenant (404 when missing or another tenant's)."""
    return await get_or_404(uow, Notice, notice_id)


async def tenant_notices(uow: Uow, statuses: Sequence[str], limit: int) -> list[Notice]:
    """The tenant's notices of every incident, oldest first, optionally in any of ``statuses``."""
    statement = select(Notice).where(col(Notice.tenant_id) == uow.tenant_id)
    if statuses:
        statement = statement.where(col(Notice.status).in_(list(statuses)))
    rows = await uow.session.exec(statement.order_by(col(Notice.created_at)).limit(limit))
    return list(rows.all())


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


def _late(answered: list[Deadline], at: datetime) -> bool:
    """True when a notice given at ``at`` comes after the hard limit of a clock it answers."""
    return any(is_late(to_domain(row), at) for row in answered)


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


def _portal_only(kind: NoticeKind, notice: Notice, tenant: TenantSettings | None) -> str | None:
    """The portal URL of an authority that takes notices on its portal only (no email to send to)."""
    if kind is not NoticeKind.AUTHORITY or tenant is None:
        return None
    entry = tenant.authorities.get(notice.jurisdiction or "") or {}
    return None if entry.get("email") else entry.get("portal_url")
