"""Routes of messages: the delivery log, a retry, a bounce report."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from services.notify.api.deps import AdminUow, ReadUow, WriteUow
from services.notify.models import Message
from services.notify.schemas import BounceIn, MessageDetailOut, MessageOut, MessagePage, RetryIn
from services.notify.service import messages as service
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.repository import get_or_404

router = APIRouter(prefix="/v1/messages", tags=["messages"], responses=PROBLEM_RESPONSES)

State = Literal["queued", "retrying", "sent", "delivered", "bounced", "failed"]


@router.get("", response_model=MessagePage, summary="List messages")
async def list_messages(
    uow: ReadUow,
    state: State | None = None,
    origin: Annotated[str | None, Query(max_length=32)] = None,
    template: Annotated[str | None, Query(max_length=128)] = None,
    kind: Literal["requested", "alert"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> MessagePage:
    """The tenant's messages, newest first, with where each delivery stands."""
    filters = {"state": state, "origin": origin, "template": template, "kind": kind}
    return await service.list_messages(uow, filters, limit, offset)


@router.get("/{message_id}", response_model=MessageDetailOut, summary="Read a message and its delivery log")
async def get_message(message_id: uuid.UUID, uow: ReadUow) -> MessageDetailOut:
    """A message (id = the notification id) with every delivery attempt and what the server answered."""
    return await service.message_view(uow, await get_or_404(uow, Message, message_id))


@router.post("/{message_id}/retry", response_model=MessageOut, summary="Queue a failed message again")
async def retry_message(message_id: uuid.UUID, body: RetryIn, uow: AdminUow) -> Message:
    """A failed or bounced message is queued again now, with a fresh count of attempts (409 otherwise)."""
    return await service.retry(uow, message_id, body.reason)


@router.post("/{message_id}/bounce", response_model=MessageOut, summary="Report a bounce")
async def bounce_message(message_id: uuid.UUID, body: BounceIn, uow: WriteUow) -> Message:
    """A bounce from the relay or the mail provider: the mail is bounced and its origin learns it failed."""
    return await service.bounce(uow, message_id, body.reason, body.smtp_code)
