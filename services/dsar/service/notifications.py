"""Messages to data subjects: stored encrypted, announced on the bus, claimed and delivered by the notify service.

DSAR decides what to say (a template key and its values) and to whom; the notify service renders
the template in the subject's language, sends it and reports back on
``privops.notifications.outcomes``, which ``record_outcome`` turns into the message's delivery state.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import structlog
from pydantic_core import to_jsonable_python
from sqlmodel import col, select

from services.dsar.domain import DeliveryState, delivery_state
from services.dsar.models import DsarRequest, Notification
from services.dsar.schemas import MessageOut, NotificationClaimOut
from services.dsar.service import Uow
from services.dsar.service.crypto import seal, unseal
from shared.bus.notifications import Outcome
from shared.events.catalogue.notifications import (
    NotificationRequested,
)
from shared.rules.errors import Gone
from shared.runtime.repository import get_or_404

log = structlog.get_logger("privops.dsar.notifications")


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
    """Queue an email to the subject (when an address is known) in the request's language; return its id.

    ``context`` holds the template's own values (services/notify/templates/*/<template>.txt); the
    request's id and type are added. Times are kept as ISO 8601 instants, the claim's JSON form.
    """
    to = subject_email(uow, request)
    if to is None:
        return None
    values = to_jsonable_python({"request_id": request.id, "request_type": request.request_type, **context})
    now = uow.now()
    notification = Notification(
        tenant_id=uow.tenant_id,
        request_id=request.id,
        template=template,
        channel="email",
        recipient_ref=request.subject_ref,
        locale=request.locale,
        payload_enc=seal(uow.settings, {"to": to, "context": values}),
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
            locale=request.locale,  # None: notify uses the tenant's default language
        ),
        subject=request.subject_ref,
    )
    uow.audit(
        "notification.queued", "dsar_request", request.id, {"template": template, "notification": str(notification.id)}
    )
    return notification.id


async def claim_notification(uow: Uow, notification_id: uuid.UUID) -> NotificationClaimOut:
    """The address and template values of a message, for the notify service; 410 once expired."""
    notification = await get_or_404(uow, Notification, notification_id, label="notification")
    if notification.payload_enc is None or notification.expires_at < uow.now():
        raise Gone(f"Notification {notification_id} has expired; its content was erased.")
    payload: dict[str, Any] = unseal(uow.settings, notification.payload_enc)
    if "context" not in payload:
        # Queued before messages were rendered by notify (a subject and a body): nothing to render from.
        raise Gone(f"Notification {notification_id} was queued in an earlier format; send it again.")
    notification.claimed_at = uow.now()
    uow.session.add(notification)
    uow.audit("notification.claimed", "dsar_notification", notification.id, {"template": notification.template})
    return NotificationClaimOut(
        notification_id=notification.id,
        channel="email",
        template=notification.template,
        locale=notification.locale,
        to=payload["to"],
        context=payload["context"],
    )


async def record_outcome(uow: Uow, event: Outcome) -> None:
    """Record what the notify service reports of a message: sent, delivered, or failed with the reason.

    Each outcome keeps its own time, so a repeat or a late arrival leaves the state the latest says.
    """
    notification = await get_or_404(uow, Notification, event.notification_id, lock=True, label="notification")
    before = notification.state
    if event.kind == "sent":
        notification.sent_at = notification.sent_at or event.at
    elif event.kind == "delivered":
        notification.sent_at = notification.sent_at or event.at  # a webhook's 2xx is both at once
        notification.delivered_at = max(notification.delivered_at or event.at, event.at)
    else:
        if notification.failed_at is None or event.at >= notification.failed_at:
            notification.failure_reason = event.reason
        notification.failed_at = max(notification.failed_at or event.at, event.at)
    notification.attempts = max(notification.attempts, event.attempts)
    notification.state = delivery_state(notification.sent_at, notification.delivered_at, notification.failed_at).value
    if notification.state in (DeliveryState.DELIVERED, DeliveryState.FAILED):
        notification.payload_enc = None  # notify claims no more: the address and the code need not be kept
    uow.session.add(notification)
    if notification.state != before:
        uow.audit(
            f"notification.{notification.state}",
            "dsar_notification",
            notification.id,
            {"template": notification.template, "request_id": str(notification.request_id), "attempts": event.attempts},
        )
        log.info(
            "dsar.notification.outcome",
            notification_id=str(notification.id),
            template=notification.template,
            state=notification.state,
        )


async def messages_of(uow: Uow, request_id: uuid.UUID) -> list[MessageOut]:
    """The messages sent about one of the tenant's requests, oldest first, with their delivery state."""
    await get_or_404(uow, DsarRequest, request_id, label="request")
    rows = await uow.session.exec(
        select(Notification)
        .where(col(Notification.tenant_id) == uow.tenant_id, col(Notification.request_id) == request_id)
        .order_by(col(Notification.created_at), col(Notification.id))
    )
    return [
        MessageOut(requested_at=n.created_at, **n.model_dump(exclude={"created_at", "payload_enc"})) for n in rows.all()
    ]
