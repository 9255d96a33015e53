"""Telling people of a material notice change: the campaign, each person's message, its claim and outcome.

Publishing a material version (``catalogue.publish_notice``) targets every subject whose grant of the
purpose is in force (``consent_state``). Those with a known address (``subject_contact``) get one
``NotificationRequested`` each (template ``consent.notice.changed``, in their language when known),
staged packed in the same transaction; the others are recorded as unreachable, never dropped. The
campaign keeps the counts, a row per person keeps the status notify reports back.
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from sqlalchemy import or_, update
from sqlmodel import col, select

from services.consent.domain.notice_changes import (
    DELIVERED,
    FAILED,
    REQUESTED,
    SENT,
    Addressee,
    count,
    may_unsubscribe,
    next_status,
    status_for,
)
from services.consent.models import (
    ConsentState,
    ControllerProfile,
    NoticeCampaign,
    NoticeRecipient,
    NoticeVersion,
    Purpose,
    SubjectContact,
)
from services.consent.schemas.notices import NoticeClaimOut, RecipientOut, RecipientPage
from services.consent.service import Uow, contacts
from services.consent.service.public_notices import notices_link, version_link
from shared.bus.notifications import Outcome
from shared.events.catalogue import Event
from shared.events.catalogue.consent import ConsentNoticeChanged
from shared.events.catalogue.notifications import NotificationRequested
from shared.rules.errors import Gone, NotFound
from shared.runtime.db import copy_rows, new_id
from shared.runtime.repository import find, find_by, get_or_404_by

log = structlog.get_logger("privops.consent.notices")

TEMPLATE = "consent.notice.changed"
RECIPIENT_COLUMNS = (
    "campaign_id",
    "tenant_id",
    "subject_ref",
    "notification_id",
    "locale",
    "status",
    "reason",
    "updated_at",
)
_COUNTERS = {SENT: "sent", DELIVERED: "delivered", FAILED: "failed"}


def claim_url(uow: Uow, notification_id: uuid.UUID) -> str:
    """Where notify claims a notice-change message."""
    return uow.url(f"/v1/notice-messages/{notification_id}/claim")


def renewal_url(uow: Uow) -> str | None:
    """The privacy center's consent page of the tenant, when the portal's address is configured."""
    portal = uow.settings.portal_url
    return f"{portal.rstrip('/')}/p/{uow.tenant_id}/consent" if portal else None


async def _addressees(uow: Uow, purpose: str) -> list[tuple[Addressee, str | None]]:
    """Every subject whose grant of ``purpose`` is in force, with whether an address is known and its language."""
    now = uow.now()
    statement = (
        select(
            ConsentState.subject_ref,
            SubjectContact.subject_ref,
            SubjectContact.notices_opted_out_at,
            SubjectContact.locale,
        )
        .select_from(ConsentState)
        .outerjoin(
            SubjectContact,
            (col(SubjectContact.tenant_id) == col(ConsentState.tenant_id))
            & (col(SubjectContact.subject_ref) == col(ConsentState.subject_ref)),
        )
        .where(
            ConsentState.tenant_id == uow.tenant_id,
            ConsentState.purpose == purpose,
            ConsentState.decision == "granted",
            col(ConsentState.expired).is_(False),
            or_(col(ConsentState.expires_at).is_(None), col(ConsentState.expires_at) > now),
        )
        .order_by(col(ConsentState.subject_ref))
    )
    return [
        (Addressee(ref, contact is not None, opted_out is not None), locale)
        for ref, contact, opted_out, locale in (await uow.session.exec(statement)).all()
    ]


async def start_campaign(uow: Uow, purpose: Purpose, notice: NoticeVersion) -> NoticeCampaign:
    """Tell everyone whose grant of the purpose is in force of the new version; record who and how."""
    now = uow.now()
    people = await _addressees(uow, purpose.key)
    campaign = NoticeCampaign(
        tenant_id=uow.tenant_id,
        purpose=purpose.key,
        version=notice.version,
        requires_renewal=notice.requires_renewal,
        started_at=now,
    )
    rows: list[tuple[Any, ...]] = []
    events: list[tuple[Event, str | None]] = []
    statuses = []
    for person, locale in people:
        status = status_for(person, requires_renewal=notice.requires_renewal)
        statuses.append(status)
        notification_id = new_id() if status == REQUESTED else None
        rows.append((campaign.id, uow.tenant_id, person.subject_ref, notification_id, locale, status, None, now))
        if notification_id is not None:
            request = NotificationRequested(
                notification_id=notification_id,
                channel="email",
                template=TEMPLATE,
                recipient_ref=person.subject_ref,
                claim_url=claim_url(uow, notification_id),
                locale=locale,  # None: notify uses the tenant's default language
            )
            events.append((request, person.subject_ref))
    counts = count(statuses)
    campaign.targeted, campaign.requested = counts.targeted, counts.requested
    campaign.unreachable, campaign.opted_out = counts.unreachable, counts.opted_out
    uow.session.add(campaign)
    await uow.session.flush()
    await copy_rows(uow.session, NoticeRecipient.__tablename__, RECIPIENT_COLUMNS, rows)
    changed = ConsentNoticeChanged(
        campaign_id=campaign.id,
        purpose=purpose.key,
        notice_version=notice.version,
        previous_version=notice.version - 1 if notice.version > 1 else None,
        requires_renewal=notice.requires_renewal,
        published_at=notice.published_at,
        targeted=counts.targeted,
        requested=counts.requested,
        unreachable=counts.unreachable,
        opted_out=counts.opted_out,
    )
    await uow.stage_many([*events, (changed, None)], packed=True)
    detail = {"targeted": counts.targeted, "requested": counts.requested, "unreachable": counts.unreachable}
    uow.audit("notice.campaign_started", "notice_campaign", campaign.id, detail | {"opted_out": counts.opted_out})
    log.info("consent.notice.campaign_started", purpose=purpose.key, version=notice.version, **detail)
    return campaign


async def claim_message(uow: Uow, notification_id: uuid.UUID) -> NoticeClaimOut:
    """The address, language and values of a notice-change message; 410 once the address is gone or refused."""
    recipient = await get_or_404_by(uow, NoticeRecipient, label="notification", notification_id=notification_id)
    campaign = await find(uow, NoticeCampaign, recipient.campaign_id)
    contact = await find(uow, SubjectContact, (uow.tenant_id, recipient.subject_ref))
    if campaign is None or contact is None:
        raise Gone(f"Notification {notification_id} is no longer deliverable: its address was erased.")
    informational = may_unsubscribe(campaign.requires_renewal)
    if informational and contact.notices_opted_out_at is not None:
        raise Gone(f"Notification {notification_id} is no longer wanted: the person unsubscribed.")
    notice = await uow.session.get(NoticeVersion, (uow.tenant_id, campaign.purpose, campaign.version))
    purpose = await uow.session.get(Purpose, (uow.tenant_id, campaign.purpose))
    if notice is None or purpose is None:
        raise Gone(f"Notification {notification_id} is about a notice that no longer exists.")
    profile = await find(uow, ControllerProfile, uow.tenant_id)
    uow.audit("notice.message_claimed", "notice_campaign", campaign.id, {"notification": str(notification_id)})
    return NoticeClaimOut(
        notification_id=notification_id,
        channel="email",
        template=TEMPLATE,
        locale=recipient.locale,
        to=contacts.address_of(uow, contact),
        context={
            "controller": profile.name if profile is not None else uow.tenant_id,
            "purpose": purpose.name,
            "version": notice.version,
            "title": notice.title or purpose.name,
            "summary": notice.summary,
            "published_at": notice.published_at.isoformat(),
            "url": version_link(uow, notice.purpose, notice.version),
            "previous_url": version_link(uow, notice.purpose, notice.version - 1) if notice.version > 1 else None,
            "history_url": notices_link(uow, notice.purpose),
            "renewal": campaign.requires_renewal,
            "renewal_url": renewal_url(uow) if campaign.requires_renewal else None,
            "unsubscribe_url": unsubscribe_link(uow, recipient.subject_ref) if informational else None,
        },
    )


def unsubscribe_link(uow: Uow, subject_ref: str) -> str:
    """The public page where a person stops informational notice messages."""
    token = contacts.unsubscribe_token(uow, subject_ref)
    return uow.url(f"/v1/public/tenants/{uow.tenant_id}/unsubscribe?token={token}")


async def record_outcome(uow: Uow, outcome: Outcome) -> bool:
    """Apply notify's report to the person's row and the campaign's counts; False when it is not a notice message."""
    recipient = await find_by(uow, NoticeRecipient, lock=True, notification_id=outcome.notification_id)
    if recipient is None:
        return False
    status = next_status(recipient.status, outcome.kind)
    if status is None:
        return True
    moves = {_COUNTERS[status]: 1}
    if recipient.status in _COUNTERS:
        moves[_COUNTERS[recipient.status]] = -1
    recipient.status, recipient.reason, recipient.updated_at = status, outcome.reason, uow.now()
    uow.session.add(recipient)
    table = NoticeCampaign.__table__.c  # type: ignore[attr-defined]
    await uow.session.exec(
        update(NoticeCampaign)
        .where(col(NoticeCampaign.id) == recipient.campaign_id)
        .values({name: table[name] + step for name, step in moves.items()})
    )
    detail = {"notification": str(outcome.notification_id), "attempts": outcome.attempts}
    uow.audit(f"notice.message_{status}", "notice_campaign", recipient.campaign_id, detail)
    return True


async def campaign_of(uow: Uow, purpose: str, version: int) -> NoticeCampaign:
    """The campaign of one published version; 404 when none was run (not material, or another tenant's)."""
    rows = await uow.session.exec(
        select(NoticeCampaign).where(
            NoticeCampaign.tenant_id == uow.tenant_id,
            NoticeCampaign.purpose == purpose,
            NoticeCampaign.version == version,
        )
    )
    campaign = rows.first()
    if campaign is None:
        raise NotFound(f"No one was told of version {version} of {purpose!r}: it was not a material change.")
    return campaign


async def recipients(uow: Uow, purpose: str, version: int, after: str, limit: int) -> RecipientPage:
    """A page of the campaign's recipients by subject reference."""
    campaign = await campaign_of(uow, purpose, version)
    rows = await uow.session.exec(
        select(NoticeRecipient)
        .where(
            NoticeRecipient.campaign_id == campaign.id,
            NoticeRecipient.tenant_id == uow.tenant_id,
            col(NoticeRecipient.subject_ref) > after,
        )
        .order_by(col(NoticeRecipient.subject_ref))
        .limit(limit)
    )
    items = [RecipientOut.model_validate(row) for row in rows.all()]
    return RecipientPage(items=items, next_after=items[-1].subject_ref if len(items) == limit else None)
