"""The console's breach forms turned into the breach service's bodies (pure): a report, an ENISA assessment, a notice.

The assessment follows the ENISA methodology for the severity of personal data breaches
(https://www.enisa.europa.eu/publications/dbn-severity): SE = DPC × EI + CB. A notice to an authority
carries the contents of GDPR Art. 33(3) (https://eur-lex.europa.eu/eli/reg/2016/679/oj); what is not yet
known is marked "to follow" with the reason (Art. 33(4)).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from services.portal.domain.forms import FormError

Form = Mapping[str, Sequence[str]]

NATURES = {
    "confidentiality": "Confidentiality (disclosed or accessed)",
    "integrity": "Integrity (altered)",
    "availability": "Availability (lost or destroyed)",
}
# The regimes a report may name here (the sector regimes need their entity flags: set them through the API).
JURISDICTIONS = {
    "eu-gdpr": "European Union (GDPR)",
    "uk-gdpr": "United Kingdom (UK GDPR)",
    "ch-nfadp": "Switzerland (nFADP)",
    "us-ca": "California",
    "us-ny": "New York",
    "br-lgpd": "Brazil (LGPD)",
    "ca-pipeda": "Canada (PIPEDA)",
    "ca-qc-law25": "Québec (Law 25)",
    "jp-appi": "Japan (APPI)",
    "sg-pdpa": "Singapore (PDPA)",
    "au-privacy-act": "Australia (Privacy Act)",
    "in-dpdp": "India (DPDP)",
}
DATA_CATEGORIES = {
    "simple": "Simple (contact details, education, family)",
    "behavioural": "Behavioural (location, traffic, habits)",
    "financial": "Financial (income, transactions, card data)",
    "sensitive": "Sensitive (health, political, sexual life, Art. 9)",
}
EASE = {
    "negligible": "Negligible",
    "limited": "Limited",
    "significant": "Significant",
    "maximum": "Maximum (names, emails: directly identifying)",
}
CONFIDENTIALITY = {
    "none": "No loss",
    "known_recipients": "Known recipients",
    "unknown_recipients": "Unknown recipients",
}
INTEGRITY = {"none": "No loss", "recoverable": "Altered, recoverable", "not_recoverable": "Altered, not recoverable"}
AVAILABILITY = {"none": "No loss", "temporary": "Temporary", "permanent": "Permanent"}
NOTICE_KINDS = {"authority": "Supervisory authority (Art. 33)", "individuals": "The people affected (Art. 34)"}
NOTICE_STAGES = {"initial": "Initial", "follow_up": "Follow-up", "final": "Final"}
TO_FOLLOW = {
    "approximate_data_subjects": "Approximate number of people",
    "approximate_records": "Approximate number of records",
    "likely_consequences": "Likely consequences",
    "measures": "Measures taken or proposed",
}
WHEN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")


def _one(form: Form, name: str, limit: int = 2000) -> str:
    return (form.get(name) or [""])[0].strip()[:limit]


def _many(form: Form, name: str, allowed: Mapping[str, str]) -> list[str]:
    return [v for v in dict.fromkeys(form.get(name, [])) if v in allowed]


def _lines(form: Form, name: str) -> list[str]:
    return [line.strip()[:200] for line in re.split(r"[,\n]", _one(form, name, 4000)) if line.strip()][:50]


def _per_line(form: Form, name: str) -> list[str]:
    return [line.strip()[:2000] for line in _one(form, name, 8000).splitlines() if line.strip()][:50]


def _when(value: str) -> datetime | None:
    """A ``datetime-local`` value read as UTC."""
    if not WHEN.match(value):
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _count(form: Form, name: str, errors: dict[str, str]) -> int | None:
    value = _one(form, name, 12)
    if not value:
        return None
    if not value.isdigit():
        errors[name] = "Give a whole number, or leave it empty while unknown."
        return None
    return int(value)


def incident_body(form: Form, reporter: str, now: datetime) -> dict[str, Any]:
    """The breach service's ``IncidentIn`` for the report form (raises ``FormError``)."""
    errors: dict[str, str] = {}
    title, description = _one(form, "title", 200), _one(form, "description")
    if not title:
        errors["title"] = "Give the incident a short title."
    if not description:
        errors["description"] = "Describe what happened."
    detected = _when(_one(form, "detected_at", 32))
    aware = _when(_one(form, "aware_at", 32))
    if detected is None:
        errors["detected_at"] = "Give when the breach was detected (date and time, UTC)."
    if aware is None:
        errors["aware_at"] = "Give when you became aware of it (date and time, UTC): every clock starts there."
    if aware and aware > now:
        errors["aware_at"] = "Awareness cannot be in the future."
    nature = _many(form, "nature", NATURES)
    if not nature:
        errors["nature"] = "Choose at least one nature of the breach."
    jurisdictions = _many(form, "jurisdictions", JURISDICTIONS)
    if not jurisdictions:
        errors["jurisdictions"] = "Choose where the people affected live."
    subjects = _count(form, "approximate_subjects", errors)
    records = _count(form, "approximate_records", errors)
    if errors:
        raise FormError(errors)
    assert detected is not None
    assert aware is not None
    body: dict[str, Any] = {
        "title": title,
        "description": description,
        "detected_at": detected.isoformat(),
        "aware_at": aware.isoformat(),
        "reporter": reporter[:200],
        "nature": nature,
        "jurisdictions": jurisdictions,
        "data_categories": _lines(form, "data_categories"),
        "data_subject_categories": _lines(form, "data_subject_categories"),
        "systems": _lines(form, "systems"),
        "measures_taken": _per_line(form, "measures_taken"),
    }
    optional = {
        "approximate_subjects": subjects,
        "approximate_records": records,
        "containment": _one(form, "containment") or None,
        "likely_consequences": _one(form, "likely_consequences") or None,
    }
    return body | {k: v for k, v in optional.items() if v is not None}


def assessment_body(form: Form) -> dict[str, Any]:
    """The breach service's ``AssessmentIn`` for the ENISA form (raises ``FormError``)."""
    errors: dict[str, str] = {}
    categories = _many(form, "category", DATA_CATEGORIES)
    if not categories:
        errors["category"] = "Choose at least one category of data breached."
    ease = _one(form, "ease_of_identification", 16)
    if ease not in EASE:
        errors["ease_of_identification"] = "Choose how easily the people can be identified."
    circumstances = {
        "confidentiality": _one(form, "confidentiality", 32) or "none",
        "integrity": _one(form, "integrity", 32) or "none",
        "availability": _one(form, "availability", 32) or "none",
        "malicious_intent": _one(form, "malicious_intent", 8) == "yes",
    }
    for name, allowed in (
        ("confidentiality", CONFIDENTIALITY),
        ("integrity", INTEGRITY),
        ("availability", AVAILABILITY),
    ):
        if circumstances[name] not in allowed:
            errors[name] = "Choose one of the options."
    rationale = _one(form, "rationale")
    if not rationale:
        errors["rationale"] = "Give the reasoning kept with the score."
    if errors:
        raise FormError(errors)
    return {
        "data_sets": [{"category": c} for c in categories],
        "ease_of_identification": ease,
        "circumstances": circumstances,
        "rationale": rationale,
    }


def notice_body(form: Form) -> dict[str, Any]:
    """The breach service's ``NoticeIn`` for the draft form (raises ``FormError``)."""
    errors: dict[str, str] = {}
    kind, stage = _one(form, "kind", 16), _one(form, "stage", 16) or "initial"
    if kind not in NOTICE_KINDS:
        errors["kind"] = "Choose whom the notice is for."
    if stage not in NOTICE_STAGES:
        errors["stage"] = "Choose the stage of the notice."
    jurisdiction = _one(form, "jurisdiction", 32)
    if kind == "authority" and not jurisdiction:
        errors["jurisdiction"] = "Choose whose authority is notified."
    to_follow = {f: _one(form, "reason_to_follow") or "Not yet known." for f in _many(form, "to_follow", TO_FOLLOW)}
    if errors:
        raise FormError(errors)
    body: dict[str, Any] = {"kind": kind, "stage": stage, "to_follow": to_follow}
    if kind == "authority":
        body["jurisdiction"] = jurisdiction
    if _one(form, "delay_reasons"):
        body["delay_reasons"] = _one(form, "delay_reasons")
    return body
