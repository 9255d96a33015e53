"""Tables of the breach service (its own registry: they exist only in its database)."""

from __future__ import annotations

from sqlmodel import SQLModel

from shared.db import service_registry

registry = service_registry()


class BreachModel(SQLModel, registry=registry):
    """Base of every table of the breach service."""


metadata = registry.metadata
