"""The console's forms on authorities' demands and contract ends, turned into the services' bodies (pure).

A processor discloses only what the law requires (GDPR Art. 28(3)(a)); an order of a third country's
authority binds only through an international agreement (Art. 48); at the end of the contract the
processor returns and deletes the data (Art. 28(3)(g), https://eur-lex.europa.eu/eli/reg/2016/679/oj).
Each function raises ``FormError`` naming every field to fix.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from services.portal.domain.forms import FormError

Form = Mapping[str, Sequence[str]]

DEMAND_STATUSES = {
    "received": "Received",
    "under_review": "Under review",
    "disclosed": "Disclosed",
    "partially_disclosed": "Partially disclosed",
    "refused": "Refused",
    "challenged": "Challenged",
    "closed": "Closed",
}
DECISIONS = {
    "disclosed": "Disclose what is asked",
    "partially_disclosed": "Disclose in part",
    "refused": "Refuse",
    "challenged": "Challenge it (before a court or the authority)",
}
NOTIFICATION = {
    "requested": "Customer's contacts emailed",
    "deferred": "Deferred: a legal instrument forbids telling the customer yet",
    "no_contact": "No contact on file for the customer: tell them another way",
}
SUBJECT_KINDS = ("email", "user_id", "phone", "customer_id", "cookie_id", "device_id")
END_MODES = {
    "return_then_delete": "Return everything (one package), then delete",
    "delete": "Delete at once (the customer already has its data)",
}
END_STATES = {
    "requested": "Waiting for a second person to confirm",
    "confirmed": "Confirmed: runs from its effective date",
    "returning": "Exporting from every system",
    "deleting": "Deleting in every system",
    "completed": "Completed: certificate issued",
    "cancelled": "Cancelled",
}
TASK_OUTCOMES = {"done": "Done", "no_data": "No data held", "exempt": "Kept under a legal obligation"}
WHEN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")
COUNTRY = re.compile(r"^[A-Za-z]{2}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def one(form: Form, name: str, limit: int = 4000) -> str:
    """A field, trimmed and bounded ('' when missing)."""
    return (form.get(name) or [""])[0].strip()[:limit]


def when(value: str) -> str | None:
    """A ``datetime-local`` value (read as UTC) as ISO 8601, or None."""
    if not WHEN.fullmatch(value):
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC).isoformat()


def day(value: str) -> str | None:
    """A ``date`` value as the start of that day in UTC (ISO 8601), or None."""
    try:
        return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC).isoformat()
    except ValueError:
        return None


def _need(form: Form, errors: dict[str, str], name: str, label: str, limit: int = 4000) -> str:
    value = one(form, name, limit)
    if not value:
        errors[name] = f"Fill in {label}."
    return value


def categories(form: Form, name: str = "data_categories") -> list[str]:
    """Categories ticked, or given one per line or separated by commas."""
    given = "\n".join(v[:4000] for v in list(form.get(name) or [])[:50])
    return list(dict.fromkeys(c.strip()[:100] for c in re.split(r"[,\n]", given) if c.strip()))[:50]


def subjects(text: str) -> list[dict[str, str]]:
    """People named one per line: ``kind: value`` (or a bare email address)."""
    found = []
    for line in text.splitlines():
        kind, sep, value = line.strip().partition(":")
        if not line.strip():
            continue
        if not sep or kind.strip() not in SUBJECT_KINDS:
            kind, value = "email", line.strip()
        found.append({"kind": kind.strip(), "value": value.strip()[:320]})
    return found[:500]


def deferral_body(form: Form, errors: dict[str, str]) -> dict[str, str]:
    """The legal reason not to tell the customer yet, its instrument, and until when."""
    reason = _need(form, errors, "deferral_reason", "the legal reason")
    instrument = _need(form, errors, "deferral_instrument", "the instrument (order, article)", 255)
    until = day(one(form, "deferral_until", 10))
    if until is None:
        errors["deferral_until"] = "Give the day the deferral ends, when it must be looked at again."
    return {"reason": reason, "instrument": instrument, "until": until or ""}


def demand_body(form: Form) -> dict[str, Any]:
    """``DemandIn``: the authority, its legal basis, the customer, the people and the data asked for."""
    errors: dict[str, str] = {}
    name = _need(form, errors, "authority_name", "the authority's name", 255)
    country = one(form, "authority_country", 64).upper()
    if not COUNTRY.fullmatch(country):
        errors["authority_country"] = "Give the authority's country as two letters (FR, DE, US…)."
    basis = _need(form, errors, "legal_basis", "what the authority relies on")
    reference = _need(form, errors, "legal_reference", "the legal citation", 255)
    theirs = _need(form, errors, "authority_reference", "the authority's reference", 255)
    received = when(one(form, "received_at", 19))
    if received is None:
        errors["received_at"] = "Give when the demand was received."
    try:
        customer = str(uuid.UUID(one(form, "customer_id", 64)))
    except ValueError:
        customer = ""
        errors["customer_id"] = "Give the customer's id in the register."
    people = subjects(one(form, "subjects", 64_000))
    if not people:
        errors["subjects"] = "Name at least one person the demand is about."
    data = categories(form)
    if not data:
        errors["data_categories"] = "Name the categories of data asked for."
    body: dict[str, Any] = {
        "authority": {"name": name, "country": country},
        "legal_basis": {"text": basis, "reference": reference},
        "authority_reference": theirs,
        "received_at": received,
        "customer_id": customer,
        "subjects": people,
        "data_categories": data,
    }
    if one(form, "defer", 8) == "yes":
        body["deferral"] = deferral_body(form, errors)
    if errors:
        raise FormError(errors)
    return body


def review_body(form: Form) -> dict[str, str]:
    """``ReviewIn``: the decision and the reasons."""
    errors: dict[str, str] = {}
    decision = one(form, "decision", 32)
    if decision not in DECISIONS:
        errors["decision"] = "Choose the decision."
    reasoning = _need(form, errors, "reasoning", "the reasons for the decision", 8000)
    if errors:
        raise FormError(errors)
    return {"decision": decision, "reasoning": reasoning}


def disclosure_body(form: Form) -> dict[str, Any]:
    """``DisclosureIn``: about whom (one of the demand's subject references), what, how many records, how, when."""
    errors: dict[str, str] = {}
    subject_ref = _need(form, errors, "subject_ref", "the person concerned", 128)
    data = categories(form, "categories")
    if not data:
        errors["categories"] = "Name the categories handed over."
    count = one(form, "records_count", 12)
    if not count.isdigit():
        errors["records_count"] = "Give the number of records handed over."
    channel = _need(form, errors, "channel", "how it was handed over", 64)
    at = when(one(form, "disclosed_at", 19))
    if at is None:
        errors["disclosed_at"] = "Give when it was handed over."
    if errors:
        raise FormError(errors)
    return {
        "subject_ref": subject_ref,
        "categories": data,
        "records_count": int(count),
        "channel": channel,
        "disclosed_at": at,
    }


def deferral(form: Form) -> dict[str, str]:
    """``DeferralIn`` on its own."""
    errors: dict[str, str] = {}
    body = deferral_body(form, errors)
    if errors:
        raise FormError(errors)
    return body


def contract_end_body(form: Form) -> dict[str, Any]:
    """``ContractEndIn``: the mode, when it runs, why, and the customer's contact."""
    errors: dict[str, str] = {}
    mode = one(form, "mode", 32)
    if mode not in END_MODES:
        errors["mode"] = "Choose whether the data is returned first."
    effective = when(one(form, "effective_at", 19)) or day(one(form, "effective_at", 10))
    if effective is None:
        errors["effective_at"] = "Give the date the contract ends."
    reason = one(form, "reason", 2000)
    if len(reason) < 3:
        errors["reason"] = "Say why the contract ends (the notice, the date it was given)."
    notify_to = one(form, "notify_to", 320)
    if not EMAIL.fullmatch(notify_to):
        errors["notify_to"] = "Give the customer's contact email: it gets the download link and the certificate."
    if errors:
        raise FormError(errors)
    body: dict[str, Any] = {"mode": mode, "effective_at": effective, "reason": reason, "notify_to": notify_to}
    optional = {k: one(form, k, 255) for k in ("contract_ref", "requested_by")}
    locale = one(form, "locale", 8)
    return body | {k: v for k, v in optional.items() if v} | ({"locale": locale} if locale in ("en", "fr") else {})


def task_close_body(form: Form) -> dict[str, Any]:
    """``TaskCloseByHandIn``: what was done in the system, how many records, and the evidence."""
    errors: dict[str, str] = {}
    outcome = one(form, "outcome", 16)
    if outcome not in TASK_OUTCOMES:
        errors["outcome"] = "Choose what was done."
    records = one(form, "records", 12) or "0"
    if not records.isdigit():
        errors["records"] = "Give the number of records, or 0."
    evidence = one(form, "evidence", 4000)
    if len(evidence) < 3:
        errors["evidence"] = "Give the evidence (a certificate, a ticket, who did it)."
    if errors:
        raise FormError(errors)
    return {"outcome": outcome, "records": int(records), "evidence": evidence}
