"""Periodic jobs of the retention service; each claims its rows with FOR UPDATE SKIP LOCKED."""

from __future__ import annotations

from services.retention.service.dispatch import dispatch_due
from services.retention.service.sweeps import retry, sweep_due
from shared.runtime.jobs import PeriodicJob

SWEEP = "retention.sweep"
SCHEDULES = "retention.schedules"
RETRY = "retention.sweep-retry"

JOBS = [
    PeriodicJob(SWEEP, sweep_due, interval_setting="sweep_job_interval_s"),
    PeriodicJob(SCHEDULES, dispatch_due, interval_setting="schedule_job_interval_s"),
    PeriodicJob(RETRY, retry, interval_setting="sweep_job_interval_s"),
]
