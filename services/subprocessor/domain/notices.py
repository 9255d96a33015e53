"""What a change notice says, where it may be sent, and where a subprocessor may process data (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from .changes import OBJECTABLE_KINDS, ChangeKind
from .errors import DomainError, InvalidChange
from .transfers import normalise_location, validate_transfer

NOTICE_TEMPLATE = "subprocessor.change_notice"

KIND_TEXT: Mapping[ChangeKind, str] = {
    ChangeKind.ADD: "A new subprocessor will process your data",
    ChangeKind.REPLACE: "A subprocessor processing your data will be replaced",
    ChangeKind.REMOVE: "A subprocessor will stop processing your data",
    ChangeKind.LOCATION_CHANGE: "A subprocessor will process your data in different locations",
    ChangeKind.PURPOSE_CHANGE: "A subprocessor will process your data for different purposes or categories",
}


class InsecureWebhookUrl(DomainError):
    """A webhook endpoint is not an https URL (plain http is accepted only in local and test environments)."""

    field = "webhook_url"


def validate_webhook_url(url: str, *, allow_http: bool) -> str:
    """Return ``url`` if notices may be sent there: https (or http when allowed), a host, no credentials."""
    parts = urlsplit(url.strip())
    allowed = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in allowed:
        raise InsecureWebhookUrl(
            f"webhook URLs must use https (got {parts.scheme or 'no scheme'}); plain http is accepted only in "
            "local and test environments"
        )
    if not parts.hostname:
        raise InsecureWebhookUrl("the webhook URL has no host")
    if parts.username or parts.password:
        raise InsecureWebhookUrl("the webhook URL must not carry credentials; notices are signed instead")
    return url.strip()


def validate_locations(
    locations: Iterable[tuple[str, str | None]], *, at: datetime, dpf_certified: bool = False
) -> list[dict[str, Any]]:
    """Each processing location as ``{"country", "mechanism"}``, refusing a non-EEA one without a valid basis."""
    checked: dict[str, dict[str, Any]] = {}
    for country, mechanism in locations:
        basis = validate_transfer(country, mechanism, at=at, dpf_certified=dpf_certified)
        code = normalise_location(country)
        if code in checked:
            raise InvalidChange(f"location {code} is listed twice")
        checked[code] = {"country": code, "mechanism": basis.value if basis else None}
    if not checked:
        raise InvalidChange("a subprocessor needs at least one processing location")
    return list(checked.values())


def public_entry(subprocessor: Mapping[str, Any]) -> dict[str, Any]:
    """The published fields of a subprocessor (what the public list, the feed and notices show)."""
    return {
        "name": subprocessor["name"],
        "legal_entity": subprocessor["legal_entity"],
        "service": subprocessor["service"],
        "purposes": list(subprocessor["purposes"]),
        "data_categories": list(subprocessor["data_categories"]),
        "locations": [dict(location) for location in subprocessor["locations"]],
        "website": subprocessor.get("website"),
    }


def notice_content(
    *,
    kind: ChangeKind,
    summary: str,
    subprocessor: Mapping[str, Any],
    replaces: Mapping[str, Any] | None,
    effective_at: datetime,
    notice_period_days: int,
    customer: Mapping[str, str],
    respond_url: str,
) -> dict[str, Any]:
    """The written notice to one customer: the subprocessor, what changes, categories, locations and
    transfer mechanisms, the effective date, and how to object."""
    objectable = kind in OBJECTABLE_KINDS
    how = (
        f"You may object within {notice_period_days} days of receiving this notice, giving your reason: "
        f'POST {respond_url}/objection with the header X-Notice-Token and a JSON body {{"reason": "..."}}, '
        "or write to your account contact. The change will not apply to your data while your objection stands."
        if objectable
        else "This change removes a subprocessor; it needs no objection window."
    )
    return {
        "customer": dict(customer),
        "change": {"kind": kind.value, "headline": KIND_TEXT[kind], "summary": summary},
        "subprocessor": public_entry(subprocessor),
        "replaces": public_entry(replaces) if replaces else None,
        "effective_at": effective_at.isoformat(),
        "notice_period_days": notice_period_days,
        "objection": {
            "allowed": objectable,
            "window_days": notice_period_days if objectable else 0,
            "how": how,
            "objection_url": f"{respond_url}/objection" if objectable else None,
            "acknowledge_url": f"{respond_url}/acknowledgement",
        },
    }
