"""Periodic work of the breach service."""

from __future__ import annotations

from services.breach.service.deadlines import DEADLINES_JOB, fire_due_alerts
from shared.runtime.jobs import PeriodicJob

JOBS = [PeriodicJob(DEADLINES_JOB, fire_due_alerts, interval_s=60.0)]
