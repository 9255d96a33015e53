"""Messages to data subjects: stored encrypted, announced on the bus, claimed by a sender over HTTP."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from services.dsar.domain.messages import render
from services.dsar.models import DsarRequest, Notification
from services.dsar.service import Uow
from services.dsar.service.crypto import seal, unseal
from shared.events.catalogue.notifications import NotificationRequested
from shared.rules.errors import Gone
from shared.runtime.repository import get_or_404


def subject_email(uow: Uow, request: DsarRequest) -> str | None:
    """The subject's email address, while the request still holds its identifiers."""
    for identifier in subject_data(uow, request).get("identifiers", []):
        if identifier["kind"] == "email":
            return str(identifier["value"])
    return None


def subject_data(uow: Uow, request: DsarRequest) -> dict[str, Any]:
    """The decrypted identifiers and details of a request (empty once purged)."""
    if request.subject_enc is None:
        return {}
    data: dict[str, Any] = unseal(uow.settings, request.subject_enc)
    return data


async def notify_subject(
    uow: Uow, request: DsarRequest, template: str, context: dict[str, Any], *, ttl: timedelta | None = None
) -> uuid.UUID | None:
    """Queue an email to the subject (when an address is known); return the notification id."""
    to = subject_email(uow, request)
    if to is None:
        return None
    message = render(template, {"request_id": request.id, "request_type": request.request_type, **context})
    now = uow.now()
    notification = Notification(
        tenant_id=uow.tenant_id,
        request_id=request.id,
        template=template,
        channel="email",
        recipient_ref=request.subject_ref,
        payload_enc=seal(uow.settings, {"to": to, "subject": message.subject, "body": message.body}),
        expires_at=now + (ttl or timedelta(hours=uow.settings.notification_ttl_hours)),
        created_at=now,
    )
    uow.session.add(notification)
    await uow.stage(
        NotificationRequested(
            notification_id=notification.id,
            channel="email",
            template=template,
            recipient_ref=request.subject_ref,
            claim_url=uow.url(f"/v1/notifications/{notification.id}/claim"),
        ),
        subject=request.subject_ref,
    )
    uow.audit("notification.queued", "dsar_request", request.id, {"template": template})
    return notification.id


async def claim_notification(uow: Uow, notification_id: uuid.UUID) -> dict[str, Any]:
    """The address and rendered message of a notification, for the sender; 410 once expired."""
    notification = await get_or_404(uow, Notification, notification_id, label="notification")
    if notification.payload_enc is None or notification.expires_at < uow.now():
        raise Gone(f"Notification {notification_id} has expired; its content was erased.")
    payload: dict[str, Any] = unseal(uow.settings, notification.payload_enc)
    notification.claimed_at = uow.now()
    uow.session.add(notification)
    uow.audit("notification.claimed", "dsar_notification", notification.id, {"template": notification.template})
    return {
        "notification_id": str(notification.id),
        "channel": notification.channel,
        "template": notification.template,
        **payload,
    }
