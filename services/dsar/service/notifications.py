"""Messages to data subjects: stored encrypted, announced on the bus, claimed by a sender over HTTP."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from services.dsar.crypto import seal, unseal
from services.dsar.domain.messages import render
from services.dsar.models import DsarRequest, Notification
from services.dsar.service.context import Ctx
from shared.events.catalogue.notifications import NotificationRequested
from shared.rules.errors import Gone, NotFound


def subject_email(ctx: Ctx, request: DsarRequest) -> str | None:
    """The subject's email address, while the request still holds its identifiers."""
    for identifier in subject_data(ctx, request).get("identifiers", []):
        if identifier["kind"] == "email":
            return str(identifier["value"])
    return None


def subject_data(ctx: Ctx, request: DsarRequest) -> dict[str, Any]:
    """The decrypted identifiers and details of a request (empty once purged)."""
    if request.subject_enc is None:
        return {}
    data: dict[str, Any] = unseal(ctx.settings, request.subject_enc)
    return data


async def notify_subject(
    ctx: Ctx, request: DsarRequest, template: str, context: dict[str, Any], *, ttl: timedelta | None = None
) -> uuid.UUID | None:
    """Queue an email to the subject (when an address is known); return the notification id."""
    to = subject_email(ctx, request)
    if to is None:
        return None
    message = render(template, {"request_id": request.id, "request_type": request.request_type, **context})
    now = ctx.now()
    notification = Notification(
        tenant_id=ctx.tenant_id,
        request_id=request.id,
        template=template,
        channel="email",
        recipient_ref=request.subject_ref,
        payload_enc=seal(ctx.settings, {"to": to, "subject": message.subject, "body": message.body}),
        expires_at=now + (ttl or timedelta(hours=ctx.settings.notification_ttl_hours)),
        created_at=now,
    )
    ctx.session.add(notification)
    await ctx.stage(
        NotificationRequested(
            notification_id=notification.id,
            channel="email",
            template=template,
            recipient_ref=request.subject_ref,
            claim_url=ctx.url(f"/v1/notifications/{notification.id}/claim"),
        ),
        subject=request.subject_ref,
    )
    ctx.audit("notification.queued", "dsar_request", request.id, {"template": template})
    return notification.id


async def claim_notification(ctx: Ctx, notification_id: uuid.UUID) -> dict[str, Any]:
    """The address and rendered message of a notification, for the sender; 410 once expired."""
    notification = await ctx.session.get(Notification, notification_id)
    if notification is None or notification.tenant_id != ctx.tenant_id:
        raise NotFound(f"No notification {notification_id}.")
    if notification.payload_enc is None or notification.expires_at < ctx.now():
        raise Gone(f"Notification {notification_id} has expired; its content was erased.")
    payload: dict[str, Any] = unseal(ctx.settings, notification.payload_enc)
    notification.claimed_at = ctx.now()
    ctx.session.add(notification)
    ctx.audit("notification.claimed", "dsar_notification", notification.id, {"template": notification.template})
    return {
        "notification_id": str(notification.id),
        "channel": notification.channel,
        "template": notification.template,
        **payload,
    }
