"""Alembic environment of the dsar service."""

from services.dsar.models import metadata
from shared.runtime.migrations import run_env

run_env(metadata)
