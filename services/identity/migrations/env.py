"""Alembic environment of the identity service."""

from services.identity.models import metadata
from shared.runtime.migrations import run_env

run_env(metadata)
