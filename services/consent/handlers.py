"""Kafka subscriptions of the consent service: DSAR tasks addressed to it as a data store, and its mails' outcomes."""

from __future__ import annotations

from services.consent.service import Uow, notice_changes, receipt_mail
from services.consent.service.store import ACTOR, SYSTEM, ConsentStore
from shared.bus.notifications import Outcome, notification_outcomes
from shared.bus.store import dsar_task_subscription


async def record_outcome(uow: Uow, outcome: Outcome) -> None:
    """What notify reports of one of the service's messages: a notice change's, else a receipt's."""
    if not await notice_changes.record_outcome(uow, outcome):
        await receipt_mail.record_outcome(uow, outcome)


SUBSCRIPTIONS = [
    dsar_task_subscription(SYSTEM, ConsentStore(), actor=ACTOR),
    notification_outcomes("consent", record_outcome),
]
