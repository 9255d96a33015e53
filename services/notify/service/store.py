"""The notify service as a data store: a message names its recipient by reference, answered by subject reference.

Access lists a subject's messages (template, state, times; never content: notify keeps none);
erasure deletes those that reached their end with their delivery log, and the count of what was
deleted is all that remains. A message still to be delivered is kept until it is: it is what the
request itself asked for (its answer, its confirmation), and dropping it would lose it silently.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select

from services.notify import models as tenant_tables
from services.notify.models import Message
from services.notify.service import Uow
from shared.bus.store import StoreResult, TaskInput
from shared.bus.tenant_store import TenantData

SYSTEM = "privops-notify"
EXPORTED = {
    "id",
    "origin",
    "channel",
    "template",
    "locale",
    "state",
    "queued_at",
    "sent_at",
    "delivered_at",
    "failed_at",
}


PENDING = ("queued", "retrying")


def _mine(task: TaskInput) -> Any:
    return (col(Message.tenant_id) == task.tenant_id, col(Message.recipient_ref).in_(task.refs))


class MessageStore:
    """DSAR actions on the messages sent to a subject."""

    # At a contract's end (Art. 28(3)(g) GDPR): Messages, delivery records and the tenant's templates go.
    tenant_data = TenantData(
        deleted=(
            tenant_tables.DeliveryAttempt,
            tenant_tables.Message,
            tenant_tables.TemplateOverride,
            tenant_tables.TenantProfile,
        ),
        kept=(),
    )

    async def erase(self, uow: Uow, task: TaskInput) -> StoreResult:
        """Delete the subject's delivered or failed messages and their attempts; keep those still to deliver."""
        result = await uow.session.exec(delete(Message).where(*_mine(task), col(Message.state).not_in(PENDING)))
        count = int(result.rowcount or 0)
        pending = len((await uow.session.exec(select(Message.id).where(*_mine(task)))).all())
        if count or pending:
            uow.audit("messages.erased", "subject", task.subject_ref, {"messages": count, "kept_pending": pending})
        detail = f"{pending} message(s) still to deliver are kept until delivered" if pending else None
        return StoreResult("done" if count or pending else "no_data", records_affected=count, detail=detail)

    async def export(self, uow: Uow, task: TaskInput) -> list[dict[str, Any]]:
        """Every message sent or to be sent to the subject: what, when, and how it went."""
        rows = await uow.session.exec(select(Message).where(*_mine(task)).order_by(col(Message.queued_at)))
        return [{"type": "notification", **m.model_dump(mode="json", include=EXPORTED)} for m in rows.all()]

    async def restrict(self, uow: Uow, task: TaskInput, lift: bool) -> StoreResult:
        """Messages are sent when their origin asks; the origin restricts the processing that asks."""
        return StoreResult("exempt", exemption="messages are requested by the originating service", detail="no-op")

    async def object(self, uow: Uow, task: TaskInput) -> StoreResult:
        """An objection is handled by the service that requests the messages."""
        return StoreResult("exempt", exemption="messages are requested by the originating service", detail="no-op")

    async def rectify(self, uow: Uow, task: TaskInput) -> StoreResult:
        """Nothing to correct: notify keeps no address and no content."""
        return StoreResult("exempt", exemption="notify keeps no address or content", detail="nothing to rectify")
