"""Notices: delivery by signed webhook and by email, acknowledgement, and the history kept as proof."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import structlog
from sqlmodel import col, select

from services.subprocessor.domain import (
    SIGNATURE_HEADER,
    ChangeKind,
    backoff_delay,
    earliest_effective_date,
    sign,
)
from services.subprocessor.domain.changes import OBJECTABLE_KINDS
from services.subprocessor.domain.keys import notice_token, webhook_secret
from services.subprocessor.domain.notices import NOTICE_TEMPLATE
from services.subprocessor.models import (
    ChangeNotice,
    Customer,
    CustomerContact,
    NoticeLogEntry,
    Objection,
    SubprocessorChange,
)
from services.subprocessor.schemas import LogEntryOut, NoticeOut, NotificationClaimOut, ObjectionOut, PublicNoticeOut
from services.subprocessor.service import Job, Uow
from shared.events.catalogue.notifications import NotificationRequested
from shared.events.catalogue.subprocessor import SubprocessorNoticeSent
from shared.rules.errors import Gone, NotFound
from shared.runtime.db import as_json
from shared.runtime.http import http_client
from shared.runtime.jobs import claim
from shared.runtime.repository import get_or_404
from shared.runtime.views import from_row

log = structlog.get_logger("privops.subprocessor.notices")

DELIVERY_ACTOR = "job:subprocessor.deliver_notices"


def respond_url(uow: Uow, notice_id: uuid.UUID) -> str:
    """Where a customer acknowledges a notice or objects to its change."""
    return uow.url(f"/public/notices/{notice_id}")


def respond_block(uow: Uow, notice: ChangeNotice) -> dict[str, str]:
    """The notice's response links and the token that authorises them (and the portal's page, when set)."""
    key = uow.settings.signing_key.get_secret_value().encode()
    token = notice_token(key, notice.tenant_id, notice.id)
    block = {"url": respond_url(uow, notice.id), "token": token}
    if uow.settings.portal_url:
        page = f"{uow.settings.portal_url.rstrip('/')}/p/{notice.tenant_id}/notices/{notice.id}"
        block["answer_url"] = f"{page}?{urlencode({'token': token})}"
    return block


async def public_view(uow: Uow, notice: ChangeNotice) -> PublicNoticeOut:
    """A notice as its customer reads it: the change, the end of its window, and its own objection."""
    content = notice.content
    objection = (
        await uow.session.exec(
            select(Objection)
            .where(col(Objection.change_id) == notice.change_id, col(Objection.customer_id) == notice.customer_id)
            .order_by(col(Objection.raised_at).desc())
        )
    ).first()
    allowed = bool(content["objection"]["allowed"])
    deadline = notice.objection_deadline
    return PublicNoticeOut(
        notice_id=notice.id,
        tenant=notice.tenant_id,
        customer=content["customer"]["name"],
        subprocessor=content["subprocessor"]["name"],
        replaces=(content.get("replaces") or {}).get("name"),
        change_kind=content["change"]["kind"],
        headline=content["change"].get("headline"),
        summary=content["change"]["summary"],
        effective_at=datetime.fromisoformat(content["effective_at"]),
        notice_period_days=notice.notice_period_days,
        objection_allowed=allowed,
        objection_deadline=deadline,
        window_open=allowed and deadline is not None and uow.now() <= deadline,
        delivered_at=notice.delivered_at,
        acknowledged_at=notice.acknowledged_at,
        objection=from_row(ObjectionOut, objection) if objection else None,
    )


def add_log(uow: Uow, notice: ChangeNotice, *, at: datetime, kind: str, outcome: str, **fields: Any) -> None:
    """Append one step to a notice's history."""
    fields["detail"] = as_json(fields.get("detail", {}))
    entry = NoticeLogEntry(tenant_id=notice.tenant_id, notice_id=notice.id, at=at, kind=kind, outcome=outcome, **fields)
    uow.session.add(entry)


async def mark_delivered(uow: Uow, notice: ChangeNotice, *, via: str, at: datetime, customer_reference: str) -> None:
    """Record the first delivery of a notice: the customer's objection window starts now."""
    if notice.delivered_at is not None:
        return
    notice.delivered_at = at
    notice.delivered_via = via
    notice.objection_deadline = earliest_effective_date(at, notice.notice_period_days)
    uow.session.add(notice)
    add_log(uow, notice, at=at, kind="delivered", outcome=via, detail={"deadline": notice.objection_deadline})
    await uow.stage(
        SubprocessorNoticeSent(
            change_id=notice.change_id,
            notice_id=notice.id,
            customer_id=customer_reference,
            channel=via,
            delivered_at=at,
            objection_deadline=notice.objection_deadline,
        ),
        subject=str(notice.change_id),
    )


ContactRecorder = Callable[[uuid.UUID, CustomerContact], None]


async def email_contacts(uow: Uow, customer_id: uuid.UUID, template: str, record: ContactRecorder) -> int:
    """Ask notify to email ``template`` to each unrestricted contact of a customer (the address stays off the bus);
    ``record`` keeps each notification id with its contact, for the claim and the outcomes."""
    contacts = await uow.session.exec(
        select(CustomerContact).where(
            col(CustomerContact.customer_id) == customer_id, col(CustomerContact.restricted).is_(False)
        )
    )
    count = 0
    for contact in contacts.all():
        notification_id = uuid.uuid4()
        record(notification_id, contact)
        await uow.stage(
            NotificationRequested(
                notification_id=notification_id,
                channel="email",
                template=template,
                recipient_ref=contact.subject_ref,
                claim_url=uow.url(f"/v1/notifications/{notification_id}"),
            ),
            subject=contact.subject_ref,
        )
        count += 1
    return count


async def request_emails(uow: Uow, notice: ChangeNotice) -> int:
    """Ask the notification sender to email the notice to every contact."""

    def record(notification_id: uuid.UUID, contact: CustomerContact) -> None:
        add_log(
            uow,
            notice,
            at=uow.now(),
            kind="email",
            outcome="requested",
            notification_id=notification_id,
            contact_id=contact.id,
            detail={"recipient_ref": contact.subject_ref},
        )

    return await email_contacts(uow, notice.customer_id, NOTICE_TEMPLATE, record)


def webhook_payload(uow: Uow, notice: ChangeNotice, kind: ChangeKind, now: datetime) -> str:
    """The JSON body of a webhook delivery, as signed (the deadline holds if this attempt succeeds)."""
    deadline = earliest_effective_date(now, notice.notice_period_days) if kind in OBJECTABLE_KINDS else None
    payload = {
        "type": "subprocessor.change_notice",
        "notice_id": str(notice.id),
        "change_id": str(notice.change_id),
        "tenant": notice.tenant_id,
        "sent_at": now.isoformat(),
        "objection_deadline": deadline.isoformat() if deadline else None,
        "notice": notice.content,
        "respond": respond_block(uow, notice),
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))


async def attempt_webhook(uow: Uow, client: httpx.AsyncClient, notice: ChangeNotice) -> bool:
    """Send one signed delivery of a notice, log it, and schedule a retry with backoff when it fails."""
    settings = uow.settings
    change = await get_or_404(uow, SubprocessorChange, notice.change_id)
    customer = await get_or_404(uow, Customer, notice.customer_id)
    if change.state == "cancelled" or not customer.webhook_url:
        notice.webhook_status, notice.next_attempt_at = "cancelled", None
        uow.session.add(notice)
        return False
    now = uow.now()
    notice.webhook_attempts += 1
    body = webhook_payload(uow, notice, ChangeKind(change.kind), now)
    secret = webhook_secret(
        settings.signing_key.get_secret_value().encode(),
        customer.tenant_id,
        customer.id,
        customer.webhook_secret_version,
    )
    headers = {
        SIGNATURE_HEADER: sign(secret, body, now=now),
        "Content-Type": "application/json",
        "Privops-Notice-Id": str(notice.id),
        "Privops-Delivery-Attempt": str(notice.webhook_attempts),
    }
    status_code: int | None = None
    error: str | None = None
    try:
        response = await client.post(customer.webhook_url, content=body, headers=headers)
        status_code = response.status_code
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    ok = status_code is not None and 200 <= status_code < 300
    detail = {"signed_at": int(now.timestamp()), "body_sha256": hashlib.sha256(body.encode()).hexdigest()}
    if error:
        detail["error"] = error
    add_log(
        uow,
        notice,
        at=now,
        kind="webhook",
        outcome="delivered" if ok else "failed",
        attempt=notice.webhook_attempts,
        status_code=status_code,
        detail=detail,
    )
    if ok:
        notice.webhook_status, notice.next_attempt_at = "delivered", None
        await mark_delivered(uow, notice, via="webhook", at=now, customer_reference=customer.reference)
    elif notice.webhook_attempts >= settings.webhook_max_attempts:
        notice.webhook_status, notice.next_attempt_at = "failed", None
        log.warning("subprocessor.webhook.gave_up", notice_id=str(notice.id), attempts=notice.webhook_attempts)
    else:
        delay = backoff_delay(notice.webhook_attempts, base_seconds=settings.webhook_backoff_base_s)
        notice.next_attempt_at = now + timedelta(seconds=delay)
    uow.session.add(notice)
    return ok


async def deliver_pending(ctx: Job) -> int:
    """Periodic job: deliver due webhook notices, claimed with FOR UPDATE SKIP LOCKED."""
    now = ctx.clock.now()
    async with ctx.database.session() as session:
        statement = (
            select(ChangeNotice)
            .where(col(ChangeNotice.webhook_status) == "pending", col(ChangeNotice.next_attempt_at) <= now)
            .order_by(col(ChangeNotice.next_attempt_at))
        )
        notices = await claim(session, statement, limit=20)
        if not notices:
            return 0
        units: list[Uow] = [ctx.unit_of_work(session, notice.tenant_id, DELIVERY_ACTOR) for notice in notices]
        timeout = units[0].settings.webhook_timeout_s
        async with http_client(timeout=timeout, follow_redirects=False) as client:
            for uow, notice in zip(units, notices, strict=True):
                await attempt_webhook(uow, client, notice)
        return len(notices)


async def acknowledge(uow: Uow, notice: ChangeNotice, *, via: str) -> ChangeNotice:
    """Record that the customer acknowledged the notice (idempotent); it proves delivery too."""
    if notice.acknowledged_at is not None:
        return notice
    now = uow.now()
    notice.acknowledged_at = now
    uow.session.add(notice)
    add_log(uow, notice, at=now, kind="acknowledgement", outcome="acknowledged", detail={"via": via})
    customer = await get_or_404(uow, Customer, notice.customer_id)
    await mark_delivered(uow, notice, via="acknowledgement", at=now, customer_reference=customer.reference)
    uow.audit("notice.acknowledged", "change_notice", notice.id, {"via": via})
    await uow.session.flush()
    return notice


async def notices_of(uow: Uow, change_id: uuid.UUID) -> list[ChangeNotice]:
    """The notices of a change."""
    rows = await uow.session.exec(select(ChangeNotice).where(col(ChangeNotice.change_id) == change_id))
    return list(rows.all())


async def notice_view(uow: Uow, notice: ChangeNotice) -> NoticeOut:
    """A notice with its whole delivery and acknowledgement history."""
    entries = await uow.session.exec(
        select(NoticeLogEntry).where(col(NoticeLogEntry.notice_id) == notice.id).order_by(col(NoticeLogEntry.id))
    )
    history = [from_row(LogEntryOut, entry) for entry in entries.all()]
    return NoticeOut.model_validate({**notice.model_dump(), "history": history})


async def claim_notification(uow: Uow, notification_id: uuid.UUID) -> NotificationClaimOut:
    """The address, template and values of one notice email, for the notify service (claim check)."""
    entry = (
        await uow.session.exec(
            select(NoticeLogEntry).where(
                col(NoticeLogEntry.notification_id) == notification_id, col(NoticeLogEntry.tenant_id) == uow.tenant_id
            )
        )
    ).first()
    if entry is None:
        raise NotFound(f"No notification {notification_id}.")
    contact = await uow.session.get(CustomerContact, entry.contact_id) if entry.contact_id else None
    if contact is None or contact.restricted:
        raise Gone("The contact of this notification was erased or restricted; do not send it.")
    notice = await get_or_404(uow, ChangeNotice, entry.notice_id)
    content, respond = notice.content, respond_block(uow, notice)
    return NotificationClaimOut.model_validate(
        {
            "notification_id": notification_id,
            "channel": "email",
            "template": NOTICE_TEMPLATE,
            # None: the notify service falls back to the tenant's default language.
            "locale": contact.locale,
            "to": contact.email,
            "to_name": content["customer"]["name"],
            "context": {
                "subprocessor": content["subprocessor"]["name"],
                "replaces": (content.get("replaces") or {}).get("name"),
                "change_kind": content["change"]["kind"],
                "summary": content["change"]["summary"],
                "effective_at": content["effective_at"],
                "notice_period_days": notice.notice_period_days,
                "objection_allowed": content["objection"]["allowed"],
                "objection_deadline": notice.objection_deadline,
                "respond_url": respond["url"],
                "respond_token": respond["token"],
                "answer_url": respond.get("answer_url"),
                "notice_id": notice.id,
                "customer": content["customer"]["name"],
            },
        }
    )
