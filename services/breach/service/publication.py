"""A public communication instead of telling each person (GDPR Art. 34(3)(c)).

Where telling each person "would involve disproportionate effort", the controller makes "a public
communication or similar measure whereby the data subjects are informed in an equally effective
manner" (https://eur-lex.europa.eu/eli/reg/2016/679/oj). Recording one (where, when, the text, why)
makes a draft notice to individuals count as sent for the Art. 34 duty; on a notice already sent it
is kept beside the deliveries, for the people the mail did not reach.
"""

from __future__ import annotations

import uuid
from typing import Any

from services.breach.domain.errors import NoticeFrozen
from services.breach.domain.incidents import require_open
from services.breach.domain.individuals import require_approval
from services.breach.domain.notices import NoticeKind
from services.breach.models import Incident, Notice
from services.breach.schemas import PublicCommunicationIn
from services.breach.service import Uow
from services.breach.service.notices import freeze, sendable
from services.breach.service.timeline import note
from shared.events.catalogue.breach import BreachNoticeSent, BreachPublicCommunicationRecorded
from shared.rules.errors import Unprocessable
from shared.runtime.repository import get_or_404


async def record(uow: Uow, notice_id: uuid.UUID, body: PublicCommunicationIn) -> Notice:
    """Record the public communication; a draft notice to individuals then counts as sent (Art. 34(3)(c))."""
    notice = await get_or_404(uow, Notice, notice_id, lock=True)
    if notice.kind != NoticeKind.INDIVIDUALS:
        raise Unprocessable("A public communication stands in for a notice to individuals only.")
    if notice.public_communication is not None:
        raise NoticeFrozen(f"a public communication was already recorded for notice {notice.id}")
    incident: Incident
    if notice.status == "draft":
        notice, incident = await sendable(uow, notice_id)
        await freeze(uow, incident, notice, notice.delay_reasons)
        sent = True
    else:
        incident = await get_or_404(uow, Incident, notice.incident_id, lock=True)
        require_open(incident.status)
        require_approval(incident.role, notice.kind, notice.approval_status)
        sent = False
    now = uow.now()
    made: dict[str, Any] = {
        "channel": body.channel,
        "url": str(body.url) if body.url else None,
        "published_at": body.published_at.isoformat(),
        "text": body.text,
        "reason": body.reason,
        "recorded_by": uow.actor,
        "recorded_at": now.isoformat(),
    }
    notice.public_communication = made
    uow.session.add(notice)
    detail = {"notice_id": notice.id, "channel": body.channel, "url": made["url"], "reason": body.reason}
    note(uow, incident, "notice.public_communication", detail | {"published_at": body.published_at})
    await uow.stage(
        BreachPublicCommunicationRecorded(
            incident_id=incident.id, notice_id=notice.id, channel=body.channel, published_at=body.published_at
        ),
        str(incident.id),
    )
    if sent:
        await uow.stage(
            BreachNoticeSent(
                incident_id=incident.id,
                notice_id=notice.id,
                kind=NoticeKind.INDIVIDUALS.value,
                stage=notice.stage,
                recipients=0,
                late=notice.late,
                sent_at=now,
            ),
            str(incident.id),
        )
    await uow.session.flush()
    return notice
