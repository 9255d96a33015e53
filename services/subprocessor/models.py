"""Tables of the subprocessor service (its own registry: they exist only in its database)."""

from __future__ import annotations

from sqlmodel import SQLModel

from shared.db import service_registry

registry = service_registry()


class SubprocessorModel(SQLModel, registry=registry):
    """Base of every table of the subprocessor service."""


metadata = registry.metadata
