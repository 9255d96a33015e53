"""Alembic environment of the consent service."""

from services.consent.models import metadata
from shared.runtime.migrations import run_env

run_env(metadata)
