"""Kafka subscriptions of the identity service: DSAR tasks about its people's accounts."""

from __future__ import annotations

from services.identity.service.store import SYSTEM, AccountStore
from shared.bus.store import dsar_task_subscription

SUBSCRIPTIONS = [dsar_task_subscription(SYSTEM, AccountStore())]
