"""The console's forms on telling people, turned into the services' bodies (pure): the people a breach
affected, the customer's approval of their notice, a public communication, a new consent notice version.

The people affected by a high-risk breach are told directly (GDPR Art. 34(1)), or by a public
communication where that would involve disproportionate effort (Art. 34(3)(c)); a consent notice tells
people what they consent to (Arts. 7, 13, https://eur-lex.europa.eu/eli/reg/2016/679/oj). Each function
raises ``FormError`` naming every field to fix.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from typing import Any

from services.portal.domain.demand_forms import one, when
from services.portal.domain.forms import FormError

Form = Mapping[str, Sequence[str]]

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
MAX_PEOPLE = 1000  # what one form carries; more go through the API (10,000 a call)
DECISIONS = {"approved": "Approved", "declined": "Declined"}


def contacts_body(form: Form) -> dict[str, Any]:
    """``ContactsIn`` from pasted CSV lines ``email,name,locale`` (name and locale optional, a header line skipped)."""
    people: list[dict[str, str]] = []
    wrong: list[str] = []
    try:
        rows = list(csv.reader(one(form, "contacts", 60_000).replace("\0", "").splitlines()))
    except csv.Error:
        raise FormError({"contacts": "The lines are not CSV: email,name,locale."}) from None
    for number, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row] + ["", "", ""]
        email, name, locale = cells[0], cells[1][:200], cells[2].lower()
        if not email or (number == 1 and email.lower() == "email"):
            continue
        if not EMAIL.fullmatch(email) or (locale and not LANGUAGE.fullmatch(locale)):
            wrong.append(str(number))
            continue
        people.append({"email": email} | ({"name": name} if name else {}) | ({"locale": locale} if locale else {}))
    errors: dict[str, str] = {}
    if wrong:
        errors["contacts"] = (
            f"Line {', '.join(wrong[:10])}: give an email address, then a name and a language (en, fr)."
        )
    elif not people:
        errors["contacts"] = "Paste at least one line: email,name,locale."
    elif len(people) > MAX_PEOPLE:
        errors["contacts"] = f"At most {MAX_PEOPLE} people a form; attach more through the API."
    if errors:
        raise FormError(errors)
    return {"contacts": people}


def approval_body(form: Form) -> dict[str, Any]:
    """``ApprovalIn``: the customer's answer received by other means (who, how, when, why declined)."""
    errors: dict[str, str] = {}
    decision = one(form, "decision", 16)
    if decision not in DECISIONS:
        errors["decision"] = "Choose whether the customer approved or declined."
    name = one(form, "name", 200)
    if not name:
        errors["name"] = "Give who decided for the customer."
    means = one(form, "means", 2000)
    if not means:
        errors["means"] = "Say how the answer reached you (a signed letter, a ticket)."
    reason = one(form, "reason", 2000)
    if decision == "declined" and not reason:
        errors["reason"] = "Give the reason the customer declined."
    email = one(form, "email", 320)
    if email and not EMAIL.fullmatch(email):
        errors["email"] = "Give a valid email address, or leave it empty."
    received = one(form, "received_at", 19)
    if received and when(received) is None:
        errors["received_at"] = "Give when the answer reached you, or leave it empty for now."
    if errors:
        raise FormError(errors)
    body: dict[str, Any] = {"decision": decision, "name": name, "means": means}
    optional = {"email": email, "customer_reference": one(form, "customer_reference", 200), "reason": reason}
    return body | {k: v for k, v in optional.items() if v} | ({"received_at": when(received)} if received else {})


def public_communication_body(form: Form) -> dict[str, Any]:
    """``PublicCommunicationIn``: where, when, what was published, and why telling each person was disproportionate."""
    errors: dict[str, str] = {}
    channel = one(form, "channel", 200)
    if not channel:
        errors["channel"] = "Say where it was published (website, press release, in-app banner)."
    url = one(form, "url", 2000)
    if url and not url.startswith(("https://", "http://")):
        errors["url"] = "Give the web address (https://…), or leave it empty."
    published = when(one(form, "published_at", 19))
    if published is None:
        errors["published_at"] = "Give when it was published."
    text = one(form, "text", 20_000)
    if not text:
        errors["text"] = "Paste what was published."
    reason = one(form, "reason", 2000)
    if not reason:
        errors["reason"] = "Say why telling each person would involve disproportionate effort (Art. 34(3)(c))."
    if errors:
        raise FormError(errors)
    return {"channel": channel, "published_at": published, "text": text, "reason": reason} | (
        {"url": url} if url else {}
    )


def notice_version_body(form: Form) -> dict[str, Any]:
    """``NoticeIn``: a new version of a purpose's notice with its full text; a material change tells the people."""
    errors: dict[str, str] = {}
    text = one(form, "text", 200_000)
    if not text:
        errors["text"] = "Paste the full text of the notice."
    language = one(form, "language", 35) or "en"
    if not LANGUAGE.fullmatch(language):
        errors["language"] = "Give the language as a code (en, fr, en-GB)."
    material = one(form, "material", 8) == "yes"
    summary = one(form, "summary", 5000)
    if material and not summary:
        errors["summary"] = "Say what changed, in a few words: the people told of it read this first."
    url = one(form, "url", 1024)
    if url and not url.startswith(("https://", "http://")):
        errors["url"] = "Give the web address (https://…), or leave it empty."
    if errors:
        raise FormError(errors)
    body: dict[str, Any] = {"text": text, "language": language, "material": material}
    body |= {k: v for k, v in {"title": one(form, "title", 255), "summary": summary, "url": url}.items() if v}
    renewal = one(form, "requires_renewal", 8)
    return body | ({"requires_renewal": renewal == "yes"} if material and renewal in ("yes", "no") else {})
