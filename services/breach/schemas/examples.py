"""Example incident and notices shown in /docs, drafted by the real domain rules (so they never drift)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.breach.domain.notices import (
    BreachFacts,
    ContactPoint,
    NoticeDraft,
    NoticeField,
    NoticeStage,
    build_authority_notice,
    build_controller_notice,
    build_individuals_notice,
    render_text,
)

INCIDENT_EXAMPLE: dict[str, Any] = {
    "title": "Customer database exported by a compromised support account",
    "description": "A support engineer's credentials were phished; the attacker exported the customer table.",
    "detected_at": "2026-03-02T07:40:00Z",
    "aware_at": "2026-03-02T08:15:00Z",
    "reporter": "security-oncall",
    "nature": ["confidentiality"],
    "systems": ["crm", "support-desk"],
    "data_categories": ["contact details", "order history"],
    "data_subject_categories": ["customers"],
    "approximate_subjects": 1200,
    "approximate_records": 4800,
    "jurisdictions": ["eu-gdpr", "us-ca"],
    "role": "controller",
    "containment": "Account disabled, sessions revoked at 08:30 UTC.",
    "measures_taken": ["Support account disabled and sessions revoked"],
    "measures_proposed": ["Hardware keys for every support engineer"],
    "likely_consequences": "Targeted phishing of the customers whose e-mail addresses were exported.",
}

# A health-data breach at a hospital group that is also an essential entity under NIS2.
SECTOR_INCIDENT_EXAMPLE: dict[str, Any] = {
    "title": "Ransomware on the patient-records servers",
    "description": "Ransomware encrypted the patient-records servers; the attackers claim to hold a copy.",
    "detected_at": "2026-03-02T02:10:00Z",
    "aware_at": "2026-03-02T03:00:00Z",
    "reporter": "security-oncall",
    "nature": ["availability", "confidentiality"],
    "systems": ["patient-records"],
    "data_categories": ["health data", "contact details"],
    "data_subject_categories": ["patients"],
    "approximate_subjects": 5400,
    "jurisdictions": ["eu-gdpr", "eu-nis2", "us-hipaa"],
    "nis2_entity": True,
    "hipaa_in_scope": True,
    "role": "controller",
}

_FACTS = BreachFacts(
    reference="BR-2026-0001",
    aware_at=datetime(2026, 3, 2, 8, 15, tzinfo=UTC),
    nature="Loss of confidentiality: a phished support account exported the customer table.",
    plain_summary="Someone who stole a support employee's password copied our list of customers.",
    data_subject_categories=("customers",),
    approximate_data_subjects=1200,
    record_categories=("contact details", "order history"),
    approximate_records=None,
    contact=ContactPoint("Data Protection Officer", email="dpo@example.com"),
    likely_consequences="Targeted phishing of the customers whose e-mail addresses were exported.",
    measures_taken=("Support account disabled and sessions revoked",),
    measures_proposed=("Hardware keys for every support engineer",),
    advice=("Be wary of e-mails asking for your password or payment details",),
)


def _as_output(draft: NoticeDraft, **extra: Any) -> dict[str, Any]:
    return {
        "id": "6f1c8e9a-2d7b-4c1e-9a55-0c2f1e3b7d10",
        "incident_id": "0b9f4f5e-1c1a-4f8e-8a63-3a8b9c2d1e00",
        "kind": draft.kind.value,
        "stage": draft.stage.value,
        "jurisdiction": None,
        "customer_id": None,
        "recipient": draft.recipient,
        "sections": [
            {"field": s.field.value, "heading": s.heading, "text": s.text, "to_follow": s.to_follow}
            for s in draft.sections
        ],
        "body": render_text(draft),
        "delay_reasons": draft.delay_reasons,
        "previous_notice_id": None,
        "status": "draft",
        "late": False,
        "created_at": "2026-03-02T10:00:00Z",
        "sent_at": None,
        "sent_by": None,
        "deliveries": [],
        **extra,
    }


AUTHORITY_NOTICE_EXAMPLE = _as_output(
    build_authority_notice(
        _FACTS,
        recipient="supervisory authority",
        stage=NoticeStage.INITIAL,
        to_follow={NoticeField.RECORD_COUNT: "The export log is still being analysed."},
    ),
    jurisdiction="eu-gdpr",
)
CONTROLLER_NOTICE_EXAMPLE = _as_output(
    build_controller_notice(
        _FACTS,
        controller="cust-42",
        processor="Example SaaS Ltd",
        stage=NoticeStage.INITIAL,
        to_follow={NoticeField.RECORD_COUNT: "The export log is still being analysed."},
    ),
    customer_id="cust-42",
    status="sent",
    sent_at="2026-03-02T11:00:00Z",
    sent_by="dpo@example.com",
    deliveries=[
        {
            "id": "1d2c3b4a-0000-4000-8000-000000000001",
            "recipient_ref": "cust-42",
            "channel": "webhook",
            "status": "delivered",
            "detail": None,
            "requested_at": "2026-03-02T11:00:00Z",
            "updated_at": "2026-03-02T11:00:05Z",
        }
    ],
)
INDIVIDUALS_NOTICE_EXAMPLE = _as_output(
    build_individuals_notice(_FACTS, on_behalf_of="Globex SA"),
    stage="final",
    customer_id="cust-42",
    bodies={
        language: render_text(build_individuals_notice(_FACTS, language=language, on_behalf_of="Globex SA"))
        for language in ("en", "fr")
    },
    approval_status="pending",
)
