"""Consent receipts in the ISO/IEC TS 27560:2023 shape, and the Kantara v1.1 view of the same receipt."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from services.consent.domain import (
    ISO_SCHEMA_VERSION,
    RECEIPT_VERSION,
    InvalidReceipt,
    ReceiptController,
    ReceiptFacts,
    build_iso_receipt,
    kantara_view,
    subject_ref,
)

REF = subject_ref(b"k" * 32, "email", "john.doe@example.com", tenant="acme")
RECEIPT_ID = "3f1c2b8e-9d4a-4f6e-8b2a-1c0d9e8f7a6b"
RECORD_ID = "0193a0c4-7d0e-7c4e-9b1a-3f5d2e8c1a20"
CONTROLLER = ReceiptController(
    name="Acme SAS",
    contact="Data Protection Officer",
    address="1 rue de la Paix, 75002 Paris",
    email="dpo@acme.example",
    phone="+33 1 23 45 67 89",
    url="https://acme.example",
)
FACTS = ReceiptFacts(
    receipt_id=RECEIPT_ID,
    record_id=RECORD_ID,
    created_at=datetime(2024, 3, 1, 8, 0, tzinfo=UTC),
    subject_ref=REF,
    purpose_key="newsletter",
    purpose_name="Monthly newsletter",
    lawful_basis="consent",
    pii_categories=("contact.email",),
    decision="granted",
    occurred_at=datetime(2024, 2, 29, 10, 30, tzinfo=UTC),
    collection_method="web",
    language="fr",
    jurisdiction="FR",
    controller=CONTROLLER,
    notice_url="https://acme.example/notices/newsletter/2",
    notice_version=2,
    notice_text_hash="ab" * 32,
    validity="P3Y",
    evidence={"source": "api", "proof": {"form_id": "signup-v3"}},
)


def test_a_record_maps_to_the_27560_fields() -> None:
    receipt = build_iso_receipt(FACTS)
    assert list(receipt) == [
        "schema_version",
        "receipt_id",
        "record_id",
        "created",
        "pii_principal_id",
        "language",
        "privacy_notice",
        "jurisdiction",
        "parties",
        "purposes",
        "events",
        "privops",
    ]
    assert receipt["schema_version"] == ISO_SCHEMA_VERSION
    assert (receipt["receipt_id"], receipt["record_id"]) == (RECEIPT_ID, RECORD_ID)
    assert receipt["created"] == "2024-03-01T08:00:00Z"
    assert receipt["pii_principal_id"] == REF
    assert receipt["privacy_notice"] == {
        "url": "https://acme.example/notices/newsletter/2",
        "version": 2,
        "text_hash": "ab" * 32,
    }
    assert receipt["parties"] == [
        {
            "party_id": "controller",
            "party_name": "Acme SAS",
            "party_role": "controller",
            "party_contact": "Data Protection Officer",
            "party_address": "1 rue de la Paix, 75002 Paris",
            "party_email": "dpo@acme.example",
            "party_phone": "+33 1 23 45 67 89",
            "party_url": "https://acme.example",
        }
    ]
    assert receipt["purposes"] == [
        {
            "purpose": "Monthly newsletter",
            "lawful_basis": "consent",
            "pii_information": [{"pii_type": "contact.email"}],
            "pii_controllers": ["controller"],
            "collection_method": "web",
            "jurisdiction": "FR",
            "withdrawal_method": ["mailto:dpo@acme.example", "https://acme.example/notices/newsletter/2"],
        }
    ]
    assert receipt["events"] == [
        {
            "event_time": "2024-02-29T10:30:00Z",
            "event_type": "expressed",
            "event_state": "given",
            "entity_id": REF,
            "validity_duration": "P3Y",
        }
    ]
    assert receipt["privops"] == {"purpose": "newsletter", "source": "api", "proof": {"form_id": "signup-v3"}}
    json.dumps(receipt)  # JSON-ready: it becomes the claims of a JWS


@pytest.mark.parametrize(
    ("decision", "implied", "state", "kind"),
    [
        ("denied", False, "refused", "expressed"),
        ("withdrawn", False, "withdrawn", "expressed"),
        ("denied", True, "refused", "implied"),  # a Global Privacy Control signal
    ],
)
def test_refusals_and_withdrawals_are_events_without_a_validity(
    decision: str, implied: bool, state: str, kind: str
) -> None:
    event = build_iso_receipt(replace(FACTS, decision=decision, implied=implied))["events"][0]
    assert (event["event_state"], event["event_type"]) == (state, kind)
    assert "validity_duration" not in event


def test_a_purpose_without_notice_or_categories_says_so() -> None:
    receipt = build_iso_receipt(
        replace(
            FACTS,
            notice_url="https://acme.example/privacy",
            notice_version=None,
            notice_text_hash=None,
            pii_categories=(),
        )
    )
    assert receipt["privacy_notice"] == {"url": "https://acme.example/privacy", "version": None, "text_hash": None}
    assert receipt["purposes"][0]["pii_information"] == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"subject_ref": "john.doe@example.com"}, "subject_ref"),
        ({"decision": "maybe"}, "decision"),
        ({"occurred_at": datetime(2024, 2, 29, 10, 30)}, "occurred_at"),
        ({"language": "French"}, "language"),
        ({"notice_url": "javascript:alert(1)"}, "notice_url"),
        ({"receipt_id": "receipt-1"}, "receipt_id"),
        ({"controller": replace(CONTROLLER, email="")}, "controller.email"),
    ],
)
def test_rejects_what_a_receipt_cannot_carry(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidReceipt) as caught:
        build_iso_receipt(replace(FACTS, **overrides))
    assert caught.value.field == field


def test_the_kantara_view_is_the_same_receipt_in_v1_1_names() -> None:
    iso = build_iso_receipt(FACTS)
    signed = json.loads(json.dumps(iso | {"iss": "https://consent.example/tenants/acme", "iat": 1709287200}))
    view = kantara_view(signed)
    assert view["version"] == RECEIPT_VERSION == "KI-CR-v1.1.0"
    assert view["consentReceiptID"] == RECEIPT_ID
    assert view["consentTimestamp"] == 1709202600
    assert (view["jurisdiction"], view["language"], view["collectionMethod"]) == ("FR", "fr", "web")
    assert view["piiPrincipalId"] == REF
    assert view["policyUrl"] == "https://acme.example/notices/newsletter/2"
    assert view["piiControllers"][0]["piiController"] == "Acme SAS"
    assert view["piiControllers"][0]["piiControllerUrl"] == "https://acme.example"
    purpose = view["services"][0]["purposes"][0]
    assert purpose == {
        "purpose": "Monthly newsletter",
        "purposeCategory": ["newsletter"],
        "consentType": "EXPLICIT",
        "piiCategory": ["contact.email"],
        "primaryPurpose": False,
        "termination": "withdraw at any time; lapses after P3Y",
        "thirdPartyDisclosure": False,
    }
    assert view["privops"] == iso["privops"]
    implied = kantara_view(build_iso_receipt(replace(FACTS, decision="denied", implied=True, pii_categories=())))
    assert implied["services"][0]["purposes"][0]["consentType"] == "IMPLICIT"
    assert implied["services"][0]["purposes"][0]["piiCategory"] == ["unspecified"]
    assert implied["services"][0]["purposes"][0]["termination"] == "withdraw at any time"
