"""Contact references, webhook secrets, notice tokens, webhook URLs, locations and notice contents."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.consent.domain.identifiers import subject_ref
from services.subprocessor.domain import ChangeKind, TransferNotAllowed
from services.subprocessor.domain.keys import (
    InvalidContactEmail,
    check_notice_token,
    contact_subject_ref,
    notice_token,
    webhook_secret,
)
from services.subprocessor.domain.notices import (
    InsecureWebhookUrl,
    notice_content,
    validate_locations,
    validate_webhook_url,
)

KEY = b"k" * 32
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_contact_reference_matches_the_consent_services_subject_reference() -> None:
    ref = contact_subject_ref(KEY, "  Ada@Example.COM ", tenant="acme")
    assert ref == subject_ref(KEY, "email", "ada@example.com", tenant="acme")


def test_contact_email_must_be_an_address_and_is_never_echoed() -> None:
    with pytest.raises(InvalidContactEmail) as err:
        contact_subject_ref(KEY, "not-an-address", tenant="acme")
    assert "not-an-address" not in str(err.value)


def test_webhook_secrets_differ_per_customer_and_version() -> None:
    customer = uuid.uuid4()
    first = webhook_secret(KEY, "acme", customer, 1)
    assert first.startswith("whsec_")
    assert first == webhook_secret(KEY, "acme", customer, 1)
    assert first != webhook_secret(KEY, "acme", customer, 2)
    assert first != webhook_secret(KEY, "acme", uuid.uuid4(), 1)


def test_notice_token_is_bound_to_tenant_and_notice() -> None:
    notice = uuid.uuid4()
    token = notice_token(KEY, "acme", notice)
    assert check_notice_token(KEY, "acme", notice, token)
    assert not check_notice_token(KEY, "globex", notice, token)
    assert not check_notice_token(KEY, "acme", uuid.uuid4(), token)


@pytest.mark.parametrize("url", ["http://hooks.example/x", "ftp://hooks.example", "https://", "https://u:p@h.example/"])
def test_webhooks_need_https_a_host_and_no_credentials_in_production(url: str) -> None:
    with pytest.raises(InsecureWebhookUrl):
        validate_webhook_url(url, allow_http=False)


def test_plain_http_webhooks_only_when_allowed() -> None:
    assert validate_webhook_url(" http://127.0.0.1:9000/h ", allow_http=True) == "http://127.0.0.1:9000/h"
    assert validate_webhook_url("https://hooks.example/h", allow_http=False) == "https://hooks.example/h"


def test_locations_need_a_transfer_basis_outside_the_eea() -> None:
    assert validate_locations([("fr", None), ("UK", "adequacy")], at=NOW) == [
        {"country": "FR", "mechanism": None},
        {"country": "GB", "mechanism": "adequacy"},
    ]
    with pytest.raises(TransferNotAllowed):
        validate_locations([("US", None)], at=NOW)


def test_notice_states_subprocessor_change_categories_locations_date_and_how_to_object() -> None:
    sub = {
        "name": "MailRelay",
        "legal_entity": "MailRelay Inc.",
        "service": "Email",
        "purposes": ["email"],
        "data_categories": ["contact_details"],
        "locations": [{"country": "US", "mechanism": "sccs"}],
    }
    content = notice_content(
        kind=ChangeKind.ADD,
        summary="New email provider",
        subprocessor=sub,
        replaces=None,
        effective_at=NOW,
        notice_period_days=30,
        customer={"id": "c1", "reference": "globex", "name": "Globex"},
        respond_url="https://sp.example/public/notices/n1",
    )
    assert content["subprocessor"]["locations"] == [{"country": "US", "mechanism": "sccs"}]
    assert content["subprocessor"]["data_categories"] == ["contact_details"]
    assert content["effective_at"] == NOW.isoformat()
    assert content["objection"]["window_days"] == 30
    assert content["objection"]["objection_url"] == "https://sp.example/public/notices/n1/objection"
    removal = notice_content(**{**_args(content, sub), "kind": ChangeKind.REMOVE})
    assert removal["objection"]["allowed"] is False


def _args(content: dict[str, object], sub: dict[str, object]) -> dict[str, object]:
    return {
        "kind": ChangeKind.ADD,
        "summary": "x",
        "subprocessor": sub,
        "replaces": None,
        "effective_at": NOW,
        "notice_period_days": 15,
        "customer": {"id": "c1", "reference": "globex", "name": "Globex"},
        "respond_url": "https://sp.example/public/notices/n1",
    }
