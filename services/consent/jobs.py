"""Periodic work of the consent service."""

from __future__ import annotations

from services.consent.service.expiry import expire_consents
from services.consent.service.receipt_mail import purge_addresses
from shared.runtime.jobs import PeriodicJob

JOBS = [
    PeriodicJob("consent.expire", expire_consents, interval_s=60.0),
    PeriodicJob("consent.receipt-addresses", purge_addresses, interval_s=300.0),
]
