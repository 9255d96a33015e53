"""What became of a notice email, from the notify service's outcomes: the notice's history, and its window.

A customer without a webhook is told by email only: its objection window opens when the notify
service reports one of the notice's emails delivered, not when the email was requested (an email
that bounces or is refused never reached the customer, so no window may run against it).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import structlog
from sqlmodel import col, select

from services.subprocessor.models import ChangeNotice, Customer, NoticeLogEntry, SubprocessorChange
from services.subprocessor.service import Uow, demand_notices
from services.subprocessor.service.notices import add_log, mark_delivered
from shared.bus.notifications import Outcome as NotificationOutcome
from shared.runtime.repository import get_or_404

log = structlog.get_logger("privops.subprocessor.outcomes")

Outcome = Literal["sent", "delivered", "failed"]
# The webhook is the contractual channel when there is one: its 2xx starts the window, unless it gave up.
EMAIL_STARTS_WINDOW = ("none", "failed")
FINAL_STATES = ("effective", "cancelled")


async def record_email_outcome(
    uow: Uow, notification_id: uuid.UUID, outcome: Outcome, *, at: datetime, attempts: int, reason: str | None
) -> None:
    """Log an email's outcome in its notice's history (once); a delivery to an email-only customer opens its window."""
    requested = (
        await uow.session.exec(
            select(NoticeLogEntry).where(
                col(NoticeLogEntry.notification_id) == notification_id, col(NoticeLogEntry.tenant_id) == uow.tenant_id
            )
        )
    ).first()
    if requested is None:
        log.warning("subprocessor.email.unknown", notification_id=str(notification_id), outcome=outcome)
        return
    notice = await get_or_404(uow, ChangeNotice, requested.notice_id, lock=True)
    if await _logged(uow, notice, notification_id, outcome):
        return  # the same outcome told twice (a redelivery under another event id)
    detail: dict[str, object] = {"notification_id": notification_id, "attempts": attempts}
    if reason is not None:
        detail["reason"] = reason
    add_log(uow, notice, at=at, kind="email", outcome=outcome, contact_id=requested.contact_id, detail=detail)
    if outcome == "failed":
        log.warning("subprocessor.email.failed", notice_id=str(notice.id), notification_id=str(notification_id))
    elif outcome == "delivered" and notice.webhook_status in EMAIL_STARTS_WINDOW:
        change = await get_or_404(uow, SubprocessorChange, notice.change_id)
        if change.state not in FINAL_STATES:
            customer = await get_or_404(uow, Customer, notice.customer_id)
            await mark_delivered(uow, notice, via="email", at=at, customer_reference=customer.reference)
    await uow.session.flush()


async def _logged(uow: Uow, notice: ChangeNotice, notification_id: uuid.UUID, outcome: Outcome) -> bool:
    """True when this email's outcome is already in the notice's history."""
    rows = await uow.session.exec(
        select(NoticeLogEntry.id).where(
            col(NoticeLogEntry.notice_id) == notice.id,
            col(NoticeLogEntry.kind) == "email",
            col(NoticeLogEntry.outcome) == outcome,
            NoticeLogEntry.detail["notification_id"].astext == str(notification_id),
        )
    )
    return rows.first() is not None


async def apply_email_outcome(uow: Uow, outcome: NotificationOutcome) -> None:
    """A notice email was sent, delivered (an email-only customer's window opens) or failed (with the reason);
    an email about an authority's demand goes to that demand's timeline instead."""
    if await demand_notices.record_outcome(uow, outcome):
        return
    await record_email_outcome(
        uow, outcome.notification_id, outcome.kind, at=outcome.at, attempts=outcome.attempts, reason=outcome.reason
    )
