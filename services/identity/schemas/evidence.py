"""Request shape of an evidence pack."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from services.identity.schemas.common import TENANT, examples


class EvidencePackIn(BaseModel):
    """The tenant and the period (whole UTC days, both included) of an evidence pack."""

    model_config = examples({"since": "2026-01-01", "until": "2026-12-31"})

    tenant: str | None = Field(
        default=None, pattern=TENANT, description="The tenant (customer) of the pack; the token's tenant when left out"
    )
    since: date = Field(description="First day of the period (UTC)")
    until: date = Field(description="Last day of the period (UTC), included")
