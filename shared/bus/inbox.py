"""The inbox: the events each consumer group has applied, so that a redelivered event changes nothing.

The inbox row is inserted with ``ON CONFLICT DO NOTHING`` in the handler's own transaction: the
effect and the row commit together, and an event whose row exists is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ARRAY, Column, PrimaryKeyConstraint, String, bindparam, func, text
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.events.envelope import CloudEvent
from shared.runtime.db import UTCDateTime


class InboxEntry(SQLModel, table=True):
    """An event a consumer group has applied; its presence makes redelivery harmless."""

    __tablename__ = "inbox"
    __table_args__ = (PrimaryKeyConstraint("consumer_group", "event_id"),)

    consumer_group: str = Field(sa_column=Column(String(255), nullable=False))
    event_id: str = Field(sa_column=Column(String(255), nullable=False))
    event_type: str = Field(sa_column=Column(String(255), nullable=False))
    processed_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=False, server_default=func.now())
    )


# A poll's inbox rows in one statement (array parameters: one cached statement whatever the poll's size).
INBOX_MANY = text(
    "INSERT INTO inbox (consumer_group, event_id, event_type) "
    "SELECT :group, e.id, e.type FROM unnest(:ids, :types) AS e(id, type) "
    "ON CONFLICT DO NOTHING RETURNING event_id"
).bindparams(bindparam("ids", type_=ARRAY(String)), bindparam("types", type_=ARRAY(String)))


async def record_in_inbox(session: AsyncSession, group: str, envelopes: Sequence[CloudEvent]) -> set[str]:
    """Add the events to ``group``'s inbox in one statement; the ids this group had not applied before."""
    params = {"group": group, "ids": [e.id for e in envelopes], "types": [e.type for e in envelopes]}
    inserted = await (await session.connection()).execute(INBOX_MANY, params)
    return set(inserted.scalars().all())
