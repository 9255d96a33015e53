"""Turning the privacy center's plain HTML forms into the bodies the services' APIs take.

A form posts ``application/x-www-form-urlencoded`` fields; a field may repeat (``purposes``) and
the rectification form has numbered pairs (``field_1``/``value_1``…). What is wrong is said
per field, so the form can be shown again with the person's input and the reasons next to it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.portal.domain.rights import JURISDICTIONS, right_of

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
CORRECTION_ROWS = 3
LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")

Form = Mapping[str, Sequence[str]]


@dataclass
class FormError(Exception):
    """Fields the person must fix: field name → what is wrong."""

    errors: dict[str, str] = field(default_factory=dict)


def _one(form: Form, name: str, limit: int = 320) -> str:
    values = form.get(name) or [""]
    return values[0].strip()[:limit]


def request_body(request_type: str, form: Form, locale: str | None = None) -> dict[str, Any]:
    """The DSAR service's ``RequestIn`` for this form (raises ``FormError``)."""
    right = right_of(request_type)
    errors: dict[str, str] = {}
    if right is None:
        raise FormError({"type": "Choose one of the rights offered."})
    email = _one(form, "email")
    if not EMAIL.match(email):
        errors["email"] = "Enter the email address we know you by, like name@example.com."
    jurisdiction = _one(form, "jurisdiction", 32)
    if jurisdiction not in {j for j, _ in JURISDICTIONS}:
        errors["jurisdiction"] = "Choose where you live."
    details: dict[str, Any] = {}
    if right.needs == "corrections":
        corrections = []
        for row in range(1, CORRECTION_ROWS + 1):
            name, value = _one(form, f"field_{row}", 128), _one(form, f"value_{row}", 2000)
            if name and value:
                corrections.append({"field": name, "new_value": value})
            elif name or value:
                errors[f"field_{row}"] = "Give both the information to correct and its right value."
        if not corrections and not any(k.startswith("field_") for k in errors):
            errors["field_1"] = "Tell us at least one piece of information to correct."
        details["corrections"] = corrections
    elif right.needs == "purposes":
        purposes = [p.strip()[:128] for p in form.get("purposes", []) if p.strip()]
        if not purposes:
            errors["purposes"] = "Choose at least one use of your data you object to."
        details["purposes"] = purposes[:100]
    elif right.needs == "target_controller":
        target = _one(form, "target_controller", 255)
        if target:
            details["target_controller"] = target
    if errors:
        raise FormError(errors)
    body: dict[str, Any] = {
        "type": right.type,
        "jurisdiction": jurisdiction,
        "identifiers": [{"kind": "email", "value": email}],
        "channel": "web",
        "details": details,
        "verification": "email_code",
    }
    if locale and LOCALE.match(locale):
        body["locale"] = locale
    return body


def consent_choice(form: Form, purposes: Collection[str]) -> tuple[str, str]:
    """(purpose, decision) of a grant or withdraw button, ``purpose`` one of ``purposes`` (raises ``FormError``).

    The button names no person: the privacy center records the choice for the browser that sent it.
    """
    purpose, decision = _one(form, "purpose", 128), _one(form, "decision", 16)
    errors = {}
    if purpose not in purposes:
        errors["purpose"] = "Choose one of the purposes listed."
    if decision not in ("granted", "withdrawn"):
        errors["decision"] = "Choose to give or to withdraw your consent."
    if errors:
        raise FormError(errors)
    return purpose, decision


def preferred_locale(accept_language: str | None) -> str | None:
    """The first language of an ``Accept-Language`` header (``fr-FR,fr;q=0.9`` → ``fr``), for the mails."""
    if not accept_language:
        return None
    first = accept_language.split(",")[0].split(";")[0].strip().lower()
    language = first.split("-")[0]
    return language if LOCALE.match(language) else None
