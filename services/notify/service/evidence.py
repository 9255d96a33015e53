"""The notify service's evidence: how many messages of each template went out in the period, and how it went.

The notices the other services list (breach, subprocessor, DSAR) were delivered through here; the
counts show it without naming any recipient (GDPR Art. 5(2), https://eur-lex.europa.eu/eli/reg/2016/679/oj).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from services.notify.models import Message
from services.notify.service import Uow
from shared.runtime.evidence import counted, within


async def messages_evidence(uow: Uow, since: datetime, until: datetime) -> dict[str, Any]:
    """Messages queued in the period by origin, template, channel and state."""
    columns = (Message.origin, Message.template, Message.channel, Message.state)
    rows = (
        await uow.session.exec(
            select(*columns, func.count())  # type: ignore[call-overload]
            .where(col(Message.tenant_id) == uow.tenant_id, within(Message.queued_at, since, until))
            .group_by(*columns)
            .order_by(*columns)
        )
    ).all()
    return {"queued": sum(int(row[-1]) for row in rows), "by_origin_template_channel_state": counted(rows)}


EVIDENCE = [messages_evidence]
