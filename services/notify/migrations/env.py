"""Alembic environment of the notify service."""

from services.notify.models import metadata
from shared.runtime.migrations import run_env

run_env(metadata)
