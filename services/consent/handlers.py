"""Kafka subscriptions of the consent service: DSAR tasks addressed to it as a data store, and its mails' outcomes."""

from __future__ import annotations

from services.consent.service.receipt_mail import record_outcome
from services.consent.service.store import ACTOR, SYSTEM, ConsentStore
from shared.bus.notifications import notification_outcomes
from shared.bus.store import dsar_task_subscription

SUBSCRIPTIONS = [
    dsar_task_subscription(SYSTEM, ConsentStore(), actor=ACTOR),
    notification_outcomes("consent", record_outcome),
]
