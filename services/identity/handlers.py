"""Kafka subscriptions of the identity service: none (it answers over HTTP only)."""

from __future__ import annotations

from shared.bus.consumer import Subscription

SUBSCRIPTIONS: list[Subscription] = []
