"""Kafka subscriptions of the consent service: DSAR tasks addressed to it as a data store."""

from __future__ import annotations

from services.consent.service.store import ACTOR, SYSTEM, ConsentStore
from shared.bus.store import dsar_task_subscription

SUBSCRIPTIONS = [dsar_task_subscription(SYSTEM, ConsentStore(), actor=ACTOR)]
