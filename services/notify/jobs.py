"""Periodic jobs of the notify service (both claim their rows with FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

from services.notify.service.delivery import deliver_due, settle_sent
from shared.runtime.jobs import PeriodicJob

DELIVER = "notify.deliver"
SETTLE = "notify.settle"

# Sending due messages (with retries), and mails past their bounce window counting as delivered.
JOBS = [
    PeriodicJob(DELIVER, deliver_due, interval_setting="delivery_interval_s"),
    PeriodicJob(SETTLE, settle_sent, interval_s=60.0),
]
