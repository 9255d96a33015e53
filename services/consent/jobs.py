"""Periodic work of the consent service."""

from __future__ import annotations

from services.consent.service.expiry import expire_consents
from shared.runtime.jobs import PeriodicJob

JOBS = [PeriodicJob("consent.expire", expire_consents, interval_s=60.0)]
