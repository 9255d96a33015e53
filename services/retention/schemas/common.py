"""What the retention API's shapes share: the key pattern of systems, examples for /docs."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

KEY_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"


def examples(*items: dict[str, Any]) -> ConfigDict:
    """A model configuration refusing unknown fields, with examples for the OpenAPI document."""
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(items)})
