"""Periodic jobs of the identity service."""

from __future__ import annotations

from services.identity.service.keys import keep_token_keys
from shared.runtime.jobs import PeriodicJob

KEYS = "identity.keys"

# Rotating the token key after key_rotation_days, dropping retired keys no token needs any more.
JOBS = [PeriodicJob(KEYS, keep_token_keys, interval_setting="key_check_interval_s")]
