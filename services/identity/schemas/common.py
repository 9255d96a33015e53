"""What the schema modules share."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict


def examples(*cases: dict[str, Any]) -> ConfigDict:
    """A strict model config carrying ``cases`` as the examples shown in /docs."""
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(cases)})


TENANT = r"^[a-z0-9][a-z0-9_-]{0,62}$"
TENANT_OR_ALL = r"^(\*|[a-z0-9][a-z0-9_-]{0,62})$"
