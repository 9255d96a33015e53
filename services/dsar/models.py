"""Tables of the dsar service (its own registry: they exist only in its database)."""

from __future__ import annotations

from sqlmodel import SQLModel

from shared.db import service_registry

registry = service_registry()


class DsarModel(SQLModel, registry=registry):
    """Base of every table of the dsar service."""


metadata = registry.metadata
