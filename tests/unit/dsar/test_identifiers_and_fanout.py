"""Subject references agree with the consent service's; fan-out rules; message states; certificate signatures."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from services.consent.domain.identifiers import subject_ref as consent_subject_ref
from services.dsar.domain import DeliveryState, RequestType, delivery_state, normalise_locale
from services.dsar.domain.identifiers import normalise, subject_ref
from services.dsar.domain.tasks import TaskAction, action_for, request_outcome, retry_delay, task_due_at
from services.dsar.schemas import RequestIn
from services.dsar.service.crypto import seal, sign, unseal, verify_signature
from services.dsar.settings import DsarSettings
from shared.rules.subjects import IdentifierError

KEY = b"k" * 32


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("email", "Ada@Example.com"),
        ("email", "  ada.lovelace+news@EXAMPLE.org "),
        ("email", "jürgen@bücher.de"),
        ("phone", "+33 6 12-34-56-78"),
        ("phone", "0044 (0)20 7946 0001"),
        ("user_id", " u-1001 "),
        ("customer_id", "C-42"),
        ("cookie_id", "abc.DEF"),
        ("device_id", "dev 1"),
    ],
)
def test_subject_reference_is_the_same_as_the_consent_services(kind: str, value: str) -> None:
    assert subject_ref(KEY, kind, value, tenant="acme") == consent_subject_ref(KEY, kind, value, tenant="acme")


def test_identifiers_are_normalised_and_bad_ones_refused_without_echoing_the_value() -> None:
    assert normalise("email", " Ada@Example.COM ") == "ada@example.com"
    assert normalise("phone", "+44 20 7946 0001") == "+442079460001"
    assert subject_ref(KEY, "user_id", "42", tenant="acme") != subject_ref(KEY, "customer_id", "42", tenant="acme")
    for kind, value in (("email", "ada-at-example"), ("phone", "06 12 34 56 78"), ("shoe_size", "42")):
        with pytest.raises(IdentifierError) as error:
            subject_ref(KEY, kind, value, tenant="acme")
        assert value not in str(error.value)


def test_every_request_type_has_a_store_action() -> None:
    assert {action_for(t) for t in RequestType} == set(TaskAction)
    assert action_for("erasure") is TaskAction.ERASE


def test_task_deadlines_backoff_and_outcome() -> None:
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    legal = datetime(2026, 3, 5, 23, 59, tzinfo=UTC)
    assert task_due_at(now, legal, 7) == legal
    assert task_due_at(now, datetime(2026, 4, 2, tzinfo=UTC), 7) == datetime(2026, 3, 9, 9, tzinfo=UTC)
    # A request entered after its legal due time (a letter found late): the stores still get their days.
    assert task_due_at(now, datetime(2026, 2, 16, 23, 59, tzinfo=UTC), 7) == datetime(2026, 3, 9, 9, tzinfo=UTC)
    assert [retry_delay(600, a).total_seconds() for a in (1, 2, 3)] == [600, 1200, 2400]
    assert request_outcome([("done", None), ("no_data", None)]) == "complete"
    assert request_outcome([("done", "Art. 17(3)(b): invoices kept")]) == "partial"
    assert request_outcome([("done", None), ("failed", None)]) == "partial"


def test_a_message_shows_the_state_its_latest_outcome_says() -> None:
    sent, delivered, bounced = (datetime(2026, 3, 2, 9, m, tzinfo=UTC) for m in (0, 1, 5))
    assert delivery_state(None, None, None) is DeliveryState.REQUESTED
    assert delivery_state(sent, None, None) is DeliveryState.SENT
    assert delivery_state(sent, delivered, None) is DeliveryState.DELIVERED
    assert delivery_state(None, delivered, None) is DeliveryState.DELIVERED  # a webhook's 2xx: sent and delivered
    assert delivery_state(sent, delivered, bounced) is DeliveryState.FAILED  # a bounce after the relay's 250
    assert delivery_state(sent, bounced, delivered) is DeliveryState.DELIVERED  # a later attempt got through
    assert delivery_state(None, None, sent) is DeliveryState.FAILED  # refused before any acceptance


def test_locales_are_named_as_the_templates_are() -> None:
    assert [normalise_locale(t) for t in ("fr", "FR", "fr-ca", "pt_BR", "zh-Hant-TW", "", None)] == [
        "fr",
        "fr",
        "fr-CA",
        "pt-BR",
        "zh-Hant-TW",
        None,
        None,
    ]
    body = {"type": "access", "jurisdiction": "eu-gdpr", "identifiers": [{"kind": "email", "value": "a@b.c"}]}
    assert RequestIn.model_validate({**body, "locale": "fr-CA"}).locale == "fr-CA"
    for bad in ("français", "fr-", "../en", "f"):
        with pytest.raises(ValidationError):
            RequestIn.model_validate({**body, "locale": bad})


def test_sealed_data_and_signatures() -> None:
    settings = DsarSettings(
        database_url="postgresql+asyncpg://x@127.0.0.1/db",
        kafka_bootstrap_servers="127.0.0.1:9092",
        jwt_secret="j" * 40,
        environment="test",
        subject_hash_key="h" * 40,
        signing_key="s" * 40,
    )
    blob = seal(settings, {"identifiers": [{"kind": "email", "value": "ada@example.com"}]})
    assert b"ada@example.com" not in blob
    assert unseal(settings, blob)["identifiers"][0]["value"] == "ada@example.com"
    document = {"request_id": "r1", "systems": [{"system": "crm", "records_affected": 3}]}
    signature = sign(settings, document)
    assert verify_signature(
        settings, {"systems": [{"records_affected": 3, "system": "crm"}], "request_id": "r1"}, signature
    )
    assert not verify_signature(settings, {**document, "request_id": "r2"}, signature)
