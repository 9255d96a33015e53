"""Alembic environment of the retention service."""

from services.retention.models import metadata
from shared.runtime.migrations import run_env

run_env(metadata)
