"""Shapes of a tenant's DSAR settings: the public-holiday calendar each regime's clocks use."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.rules.holidays import CODE_PATTERN

RegimeId = Annotated[str, StringConstraints(min_length=2, max_length=32, pattern=r"^[a-z0-9-]+$")]
CalendarCode = Annotated[str, StringConstraints(strip_whitespace=True, max_length=16, pattern=CODE_PATTERN)]

SETTINGS_EXAMPLE: dict[str, Any] = {"calendars": {"eu-gdpr": "FR", "uk-gdpr": "GB-ENG", "us-ca-ccpa": "US-CA"}}


class SettingsIn(BaseModel):
    """A tenant's DSAR settings, replaced as a whole."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [SETTINGS_EXAMPLE]})

    calendars: dict[RegimeId, CalendarCode] = Field(
        default={},
        max_length=32,
        description="Per regime id, the public holidays its clocks leave out: a country (FR, DE, IE, any EU or EEA "
        "state for eu-gdpr), a UK nation for uk-gdpr (GB-ENG, GB-WLS, GB-SCT, GB-NIR), a US state for US "
        "regimes (US-CA). A regime left out uses its default (eu-gdpr: none, uk-gdpr: GB-ENG, us-ca-ccpa: US-CA). "
        "Requests opened from now on use them; earlier requests keep their dates.",
    )


class CalendarInUse(BaseModel):
    """The calendar new requests of one regime use, and why."""

    code: str | None = Field(description="The calendar's code; null: weekends only, no public holidays")
    description: str = Field(description="What the deadline basis says, e.g. public holidays of France (FR)")
    chosen: Literal["setting", "default"] = Field(description="Set by the tenant, or the regime's default")
    source: str = Field(description="The rule that makes public holidays count for this regime")


class SettingsOut(SettingsIn):
    """A tenant's DSAR settings, the calendar each regime uses, and who changed them last (never set: empty)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [SETTINGS_EXAMPLE]})

    calendars_in_use: dict[str, CalendarInUse] = Field(
        default={}, description="Every regime whose clocks count working days, with the calendar it uses now"
    )
    updated_at: datetime | None = None
    updated_by: str | None = None
