"""Periodic jobs of the subprocessor service (both claim their rows with FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

from services.subprocessor.service.demand_notices import remind_lapsed_deferrals
from services.subprocessor.service.effective import apply_due_changes
from services.subprocessor.service.notices import deliver_pending
from shared.runtime.jobs import PeriodicJob

DELIVER_NOTICES = "subprocessor.deliver_notices"
APPLY_CHANGES = "subprocessor.apply_changes"
DEMAND_DEFERRALS = "subprocessor.demand_deferrals"

# Notice delivery (signed webhooks with retries), changes taking effect, and lapsed reasons not to tell a
# customer of an authority's demand.
JOBS = [
    PeriodicJob(DELIVER_NOTICES, deliver_pending, interval_setting="delivery_interval_s"),
    PeriodicJob(APPLY_CHANGES, apply_due_changes, interval_setting="effective_interval_s"),
    PeriodicJob(DEMAND_DEFERRALS, remind_lapsed_deferrals, interval_setting="deferral_interval_s"),
]
