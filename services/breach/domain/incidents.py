"""Pure rules of the incident register: times, status transitions, references."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from services.breach.domain.errors import IncidentClosed, InvalidIncident, NaiveDatetime


class IncidentStatus(StrEnum):
    """Where an incident stands: reported, assessed, being notified, closed."""

    OPEN = "open"
    ASSESSED = "assessed"
    NOTIFYING = "notifying"
    CLOSED = "closed"


class Nature(StrEnum):
    """The security property lost (Art. 29 WP guidelines on breach notification)."""

    CONFIDENTIALITY = "confidentiality"
    INTEGRITY = "integrity"
    AVAILABILITY = "availability"


class Sector(StrEnum):
    """Sector regimes whose clocks apply because of what the tenant is."""

    NIS2 = "nis2"
    DORA = "dora"
    HIPAA = "hipaa"


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetime(f"{name} must be timezone-aware (UTC), got naive {value.isoformat()}")
    return value.astimezone(UTC)


def check_times(
    detected_at: datetime, aware_at: datetime, now: datetime, determined_at: datetime | None = None
) -> None:
    """Refuse an awareness time in the future or before detection, and a determination before awareness."""
    detected_at, aware_at, now = _utc(detected_at, "detected_at"), _utc(aware_at, "aware_at"), _utc(now, "now")
    if detected_at > now:
        raise InvalidIncident(f"detected_at ({detected_at.isoformat()}) is in the future (now {now.isoformat()})")
    if aware_at > now:
        raise InvalidIncident(f"aware_at ({aware_at.isoformat()}) is in the future (now {now.isoformat()})")
    if aware_at < detected_at:
        raise InvalidIncident(
            f"aware_at ({aware_at.isoformat()}) is before detected_at ({detected_at.isoformat()}): "
            "the organisation cannot be aware of a breach before it is detected"
        )
    if determined_at is not None:
        determined_at = _utc(determined_at, "determined_at")
        if determined_at < aware_at or determined_at > now:
            raise InvalidIncident(f"determined_at ({determined_at.isoformat()}) must lie between awareness and now")


def require_open(status: str) -> None:
    """Refuse any change to a closed incident."""
    if status == IncidentStatus.CLOSED:
        raise IncidentClosed("the incident is closed; reopening is not supported, record a new incident instead")


def reference_for(aware_at: datetime, sequence: int) -> str:
    """A human reference for an incident: ``BR-<year>-<sequence>`` (sequence per tenant and year)."""
    return f"BR-{aware_at.year}-{sequence:04d}"
