"""Alembic environment of the subprocessor service."""

from services.subprocessor.models import metadata
from shared.runtime.migrations import run_env

run_env(metadata)
