import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from services.consent.domain import (
    RECEIPT_VERSION,
    ConsentType,
    InvalidReceipt,
    ReceiptController,
    ReceiptPurpose,
    ReceiptService,
    build_receipt,
    subject_ref,
)

REF = subject_ref(b"k" * 32, "email", "john.doe@example.com", tenant="acme")
RECEIPT_ID = "3f1c2b8e-9d4a-4f6e-8b2a-1c0d9e8f7a6b"
CONTROLLER = ReceiptController(
    name="Acme SAS",
    contact="Data Protection Officer",
    address={"streetAddress": "1 rue de la Paix, 75002 Paris", "addressCountry": "FR"},
    email="dpo@acme.example",
    phone="+33 1 23 45 67 89",
    url="https://acme.example",
)
NEWSLETTER = ReceiptPurpose(
    purpose="Monthly newsletter",
    purpose_category=["marketing"],
    pii_category=["email address"],
    termination="3 years from consent, renewed on each positive answer, or on withdrawal",
    primary_purpose=True,
)
PARTNERS = ReceiptPurpose(
    purpose="Offers from partners",
    purpose_category=["marketing"],
    pii_category=["email address", "first name"],
    termination="on withdrawal",
    consent_type=ConsentType.EXPLICIT,
    third_party_disclosure=True,
    third_party_name="Partner Ltd",
)
SERVICE = ReceiptService(service="Acme shop", purposes=[NEWSLETTER, PARTNERS])


def make(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "receipt_id": RECEIPT_ID,
        "consent_timestamp": datetime(2024, 2, 29, 10, 30, tzinfo=UTC),
        "jurisdiction": "FR",
        "collection_method": "web form, sign-up page",
        "language": "fr",
        "subject_ref": REF,
        "controllers": [CONTROLLER],
        "policy_url": "https://acme.example/privacy",
        "services": [SERVICE],
    }
    fields.update(overrides)
    return build_receipt(**fields)


def test_builds_a_kantara_receipt() -> None:
    receipt = make()
    assert list(receipt) == [
        "version",
        "jurisdiction",
        "consentTimestamp",
        "collectionMethod",
        "consentReceiptID",
        "language",
        "piiPrincipalId",
        "piiControllers",
        "policyUrl",
        "services",
        "sensitive",
        "spiCat",
    ]
    assert receipt["version"] == RECEIPT_VERSION == "KI-CR-v1.1.0"
    assert receipt["consentTimestamp"] == 1709202600
    assert receipt["consentReceiptID"] == RECEIPT_ID
    assert receipt["piiPrincipalId"] == REF
    assert receipt["piiControllers"] == [
        {
            "piiController": "Acme SAS",
            "onBehalf": False,
            "contact": "Data Protection Officer",
            "address": {"streetAddress": "1 rue de la Paix, 75002 Paris", "addressCountry": "FR"},
            "email": "dpo@acme.example",
            "phone": "+33 1 23 45 67 89",
            "piiControllerUrl": "https://acme.example",
        }
    ]
    assert receipt["services"][0]["service"] == "Acme shop"
    assert receipt["services"][0]["purposes"][0] == {
        "purpose": "Monthly newsletter",
        "purposeCategory": ["marketing"],
        "consentType": "EXPLICIT",
        "piiCategory": ["email address"],
        "primaryPurpose": True,
        "termination": "3 years from consent, renewed on each positive answer, or on withdrawal",
        "thirdPartyDisclosure": False,
    }
    assert receipt["services"][0]["purposes"][1]["thirdPartyName"] == "Partner Ltd"
    assert (receipt["sensitive"], receipt["spiCat"]) == (False, [])
    json.dumps(receipt)  # JSON-ready as it is


def test_raw_identifier_never_becomes_the_principal_id() -> None:
    receipt = json.dumps(make())
    assert "john.doe" not in receipt
    with pytest.raises(InvalidReceipt, match=r"^subject_ref: .*never a raw identifier"):
        make(subject_ref="john.doe@example.com")


def test_optional_public_key_and_uuid_object() -> None:
    receipt = make(public_key="MCowBQYDK2VwAyEA", receipt_id=uuid.UUID(RECEIPT_ID))
    assert receipt["publicKey"] == "MCowBQYDK2VwAyEA"
    assert list(receipt).index("publicKey") == list(receipt).index("consentReceiptID") + 1
    assert receipt["consentReceiptID"] == RECEIPT_ID


def test_sensitive_data_needs_its_categories() -> None:
    assert make(sensitive=True, sensitive_categories=["health"])["spiCat"] == ["health"]
    with pytest.raises(InvalidReceipt, match=r"^sensitive_categories: "):
        make(sensitive=True)
    with pytest.raises(InvalidReceipt, match=r"^sensitive_categories: "):
        make(sensitive_categories=["health"])


def test_timestamp_in_another_zone_is_the_same_instant() -> None:
    paris = timezone(timedelta(hours=1))
    assert make(consent_timestamp=datetime(2024, 2, 29, 11, 30, tzinfo=paris))["consentTimestamp"] == 1709202600


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"consent_timestamp": datetime(2024, 2, 29, 10, 30)}, "consent_timestamp"),
        ({"receipt_id": "receipt-1"}, "receipt_id"),
        ({"language": "French"}, "language"),
        ({"language": "en\n"}, "language"),
        ({"jurisdiction": " "}, "jurisdiction"),
        ({"collection_method": ""}, "collection_method"),
        ({"policy_url": "acme.example/privacy"}, "policy_url"),
        ({"policy_url": "javascript:alert(1)"}, "policy_url"),
        ({"controllers": []}, "controllers"),
        ({"services": []}, "services"),
        ({"controllers": [replace(CONTROLLER, email="")]}, "controllers[0].email"),
        ({"controllers": [replace(CONTROLLER, address={})]}, "controllers[0].address"),
        ({"controllers": [replace(CONTROLLER, url="ftp://acme.example")]}, "controllers[0].url"),
        ({"services": [ReceiptService("Acme shop", [])]}, "services[0].purposes"),
        (
            {"services": [ReceiptService("Acme shop", [replace(NEWSLETTER, purpose_category=[])])]},
            "services[0].purposes[0].purpose_category",
        ),
        (
            {"services": [ReceiptService("Acme shop", [replace(NEWSLETTER, pii_category="email")])]},
            "services[0].purposes[0].pii_category",
        ),
        (
            {"services": [ReceiptService("Acme shop", [replace(NEWSLETTER, consent_type="opt-out")])]},
            "services[0].purposes[0].consent_type",
        ),
        (
            {"services": [ReceiptService("Acme shop", [replace(PARTNERS, third_party_name=None)])]},
            "services[0].purposes[0].third_party_name",
        ),
        (
            {"services": [ReceiptService("Acme shop", [replace(NEWSLETTER, third_party_name="Partner Ltd")])]},
            "services[0].purposes[0].third_party_name",
        ),
    ],
)
def test_rejects_incomplete_input_naming_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidReceipt) as caught:
        make(**overrides)
    assert caught.value.field == field
