"""Alembic environment of the breach service."""

from services.breach.models import metadata
from shared.runtime.migrations import run_env

run_env(metadata)
