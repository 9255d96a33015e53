"""What the DSAR API shapes share: the key pattern, examples for /docs, an identifier of the subject."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

KEY_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


def examples_config(*examples: dict[str, Any]) -> ConfigDict:
    """A model's config: unknown fields refused, ``examples`` shown in /docs."""
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


class IdentifierIn(BaseModel):
    """One identifier of the subject; stored encrypted in the DSAR database only, never on the bus."""

    kind: str = Field(description="email, user_id, phone, customer_id, cookie_id or device_id", max_length=32)
    value: str = Field(min_length=1, max_length=320)
