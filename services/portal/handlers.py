"""The portal consumes no event: it reads the services' state through their HTTP APIs."""

from __future__ import annotations

from shared.bus.consumer import Subscription

SUBSCRIPTIONS: list[Subscription] = []
