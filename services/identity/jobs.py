"""Periodic jobs of the identity service."""

from __future__ import annotations

from services.identity.service.keys import keep_token_keys
from services.identity.service.login import purge_expired
from shared.runtime.jobs import PeriodicJob

KEYS = "identity.keys"
PURGE = "identity.purge"

# Rotating the token key after key_rotation_days and dropping retired keys no token needs any more;
# forgetting expired authorization codes and failed sign-ins older than the rate limit's window.
JOBS = [
    PeriodicJob(KEYS, keep_token_keys, interval_setting="key_check_interval_s"),
    PeriodicJob(PURGE, purge_expired, interval_s=600.0),
]
