"""Messages: queued from a request or an alert, listed, read with their log, retried, bounced."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select

from services.notify.domain import WEBHOOK_TARGET, Alert, DeliveryState
from services.notify.models import DeliveryAttempt, Message
from services.notify.schemas import AttemptOut, MessageDetailOut, MessageOut, MessagePage
from services.notify.service import Uow
from services.notify.service.outcomes import mark_failed
from services.notify.service.profile import find_profile
from shared.events.catalogue.notifications import NotificationRequested
from shared.rules.errors import Conflict
from shared.rules.subjects import IdentifierKind, subject_ref
from shared.runtime.db import as_json
from shared.runtime.repository import get_or_404
from shared.runtime.views import from_row

RETRYABLE = (DeliveryState.FAILED.value, DeliveryState.BOUNCED.value)


async def _insert(uow: Uow, rows: list[dict[str, Any]], conflict: list[str]) -> int:
    """Insert ``rows`` unless a row with the same ``conflict`` columns exists; how many were new."""
    if not rows:
        return 0
    statement = insert(Message).values(rows).on_conflict_do_nothing(index_elements=conflict)
    result = await uow.session.exec(statement)
    return int(result.rowcount or 0)


def _queued(uow: Uow) -> dict[str, Any]:
    now = uow.now()
    return {"tenant_id": uow.tenant_id, "state": "queued", "attempts": 0, "queued_at": now, "next_attempt_at": now}


async def queue_requested(uow: Uow, event: NotificationRequested, origin: str) -> bool:
    """Queue a requested message (the same notification id twice is one message); True when new."""
    row = _queued(uow) | {
        "id": event.notification_id,
        "origin": origin,
        "kind": "requested",
        "channel": event.channel,
        "template": event.template,
        "locale": event.locale,
        "recipient_ref": event.recipient_ref,
        "claim_url": event.claim_url,
        "context": {},
    }
    return await _insert(uow, [row], ["id"]) == 1


def alert_email_ref(uow: Uow, address: str) -> str:
    """The reference an alert keeps for a privacy-team address (matched against the profile when sent)."""
    key = uow.settings.subject_hash_key.get_secret_value().encode()
    return subject_ref(key, IdentifierKind.EMAIL, address, tenant=uow.tenant_id)


async def raise_alert(uow: Uow, alert: Alert, origin: str) -> int:
    """One message per target of the tenant's privacy team, once per threshold; how many were new."""
    profile = await find_profile(uow)
    if profile is None:
        return 0
    targets = [("email", alert_email_ref(uow, address)) for address in profile.alert_emails]
    if profile.alert_webhook_url:
        targets.append(("webhook", WEBHOOK_TARGET))
    where = {"service": alert.link.service, "portal": alert.link.portal_path, "api": alert.link.api_path}
    context = as_json(alert.context | {"level": alert.level, "link_path": where})
    rows = [
        _queued(uow)
        | {
            "id": uuid.uuid4(),
            "origin": origin,
            "kind": "alert",
            "channel": channel,
            "template": alert.template,
            "locale": None,
            "recipient_ref": target,
            "claim_url": None,
            "dedupe_key": alert.dedupe_key(target),
            "context": context,
        }
        for channel, target in targets
    ]
    return await _insert(uow, rows, ["tenant_id", "dedupe_key"])


async def list_messages(uow: Uow, filters: dict[str, str | None], limit: int, offset: int) -> MessagePage:
    """The tenant's messages, newest first, filtered by state, origin, template and kind."""
    statement = select(Message).where(col(Message.tenant_id) == uow.tenant_id)
    for name, value in filters.items():
        if value is not None:
            statement = statement.where(col(getattr(Message, name)) == value)
    rows = (
        await uow.session.exec(
            statement.order_by(col(Message.queued_at).desc(), col(Message.id)).offset(offset).limit(limit + 1)
        )
    ).all()
    items = [from_row(MessageOut, m) for m in rows[:limit]]
    return MessagePage(
        items=items, limit=limit, offset=offset, next_offset=offset + limit if len(rows) > limit else None
    )


async def message_view(uow: Uow, message: Message) -> MessageDetailOut:
    """A message with every attempt, oldest first."""
    attempts = await uow.session.exec(
        select(DeliveryAttempt).where(col(DeliveryAttempt.message_id) == message.id).order_by(col(DeliveryAttempt.id))
    )
    history = [from_row(AttemptOut, a) for a in attempts.all()]
    return MessageDetailOut.model_validate({**message.model_dump(), "history": history})


async def retry(uow: Uow, message_id: uuid.UUID, reason: str) -> Message:
    """Queue a failed or bounced message again, now, with a fresh count of attempts (409 otherwise)."""
    message = await get_or_404(uow, Message, message_id, lock=True)
    if message.state not in RETRYABLE:
        raise Conflict(f"Only a failed or bounced message can be retried; this one is {message.state}.")
    previous = message.state
    message.state, message.attempts, message.next_attempt_at = "queued", 0, uow.now()
    message.failed_at = None
    uow.session.add(message)
    uow.audit("message.retried", "message", message.id, {"reason": reason, "was": previous})
    await uow.session.flush()
    return message


async def bounce(uow: Uow, message_id: uuid.UUID, reason: str, smtp_code: int | None) -> Message:
    """A bounce came back for a sent mail: bounced, and its origin learns it failed (409 unless sent)."""
    message = await get_or_404(uow, Message, message_id, lock=True)
    if message.channel != "email" or message.state not in (DeliveryState.SENT.value, DeliveryState.DELIVERED.value):
        raise Conflict(f"Only a sent email can bounce; this message is a {message.state} {message.channel}.")
    if message.state == DeliveryState.DELIVERED.value:
        # Delivered was a presumption (no bounce within the window); a late bounce corrects it.
        message.state = DeliveryState.SENT.value
    detail = f"bounced: {smtp_code} {reason}" if smtp_code else f"bounced: {reason}"
    await mark_failed(uow, message, detail, bounced=True)
    uow.audit("message.bounced", "message", message.id, {"smtp_code": smtp_code})
    await uow.session.flush()
    return message
