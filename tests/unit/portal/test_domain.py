"""The portal's pure rules: the rights' forms, the jurisdictions, days left and their colours."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.dsar.domain import RequestType
from services.dsar.domain.jurisdictions import REGIMES
from services.portal.domain import JURISDICTIONS, RIGHTS, FormError, consent_choice, days_left, request_body, urgency
from services.portal.domain.forms import preferred_locale
from services.portal.domain.urgency import describe

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def test_the_center_offers_the_dsar_services_rights_and_jurisdictions() -> None:
    assert {r.type for r in RIGHTS} == {t.value for t in RequestType} - {"lift_restriction"}
    assert {j for j, _ in JURISDICTIONS} == set(REGIMES)


def test_an_erasure_form_becomes_a_request_with_an_email_code() -> None:
    body = request_body("erasure", {"email": [" ada@example.com "], "jurisdiction": ["eu-gdpr"]}, "fr")
    assert body == {
        "type": "erasure",
        "jurisdiction": "eu-gdpr",
        "identifiers": [{"kind": "email", "value": "ada@example.com"}],
        "channel": "web",
        "details": {},
        "verification": "email_code",
        "locale": "fr",
    }


def test_each_right_asks_for_its_own_fields() -> None:
    base = {"email": ["ada@example.com"], "jurisdiction": ["uk-gdpr"]}
    fixed = request_body("rectification", base | {"field_1": ["name"], "value_1": ["Ada King"]})
    assert fixed["details"] == {"corrections": [{"field": "name", "new_value": "Ada King"}]}
    objected = request_body("objection", base | {"purposes": ["newsletter", ""]})
    assert objected["details"] == {"purposes": ["newsletter"]}
    moved = request_body("portability", base | {"target_controller": ["Globex"]})
    assert moved["details"] == {"target_controller": "Globex"}
    with pytest.raises(FormError) as missing:
        request_body("rectification", base | {"field_2": ["name"]})
    assert set(missing.value.errors) == {"field_2"}
    with pytest.raises(FormError) as none:
        request_body("objection", base)
    assert set(none.value.errors) == {"purposes"}


def test_a_bad_form_names_every_field_to_fix() -> None:
    with pytest.raises(FormError) as bad:
        request_body("erasure", {"email": ["nope"], "jurisdiction": ["mars"]})
    assert set(bad.value.errors) == {"email", "jurisdiction"}
    with pytest.raises(FormError):
        request_body("lift_restriction", {})


def test_a_consent_choice_is_a_known_purpose_and_a_decision_without_any_email() -> None:
    offered = ["newsletter", "targeted_ads"]
    assert consent_choice({"purpose": [" newsletter "], "decision": ["granted"]}, offered) == ("newsletter", "granted")
    chosen = consent_choice(
        {"email": ["ada@example.com"], "purpose": ["targeted_ads"], "decision": ["withdrawn"]}, offered
    )
    assert chosen == ("targeted_ads", "withdrawn")  # an email sent along is ignored: the browser is the subject
    with pytest.raises(FormError) as choice:
        consent_choice({"purpose": ["newsletter"], "decision": ["sold"]}, offered)
    assert set(choice.value.errors) == {"decision"}
    with pytest.raises(FormError) as unknown:
        consent_choice({"purpose": ["profiling"], "decision": ["granted"]}, offered)
    assert set(unknown.value.errors) == {"purpose"}
    with pytest.raises(FormError) as empty:
        consent_choice({}, offered)
    assert set(empty.value.errors) == {"purpose", "decision"}


@pytest.mark.parametrize(
    ("due", "days", "colour", "words"),
    [
        (datetime(2026, 3, 30, tzinfo=UTC), 20, "green", "20 days left"),
        (datetime(2026, 3, 17, 9, tzinfo=UTC), 7, "amber", "7 days left"),
        (datetime(2026, 3, 13, tzinfo=UTC), 3, "amber", "3 days left"),
        (datetime(2026, 3, 12, tzinfo=UTC), 2, "red", "2 days left"),
        (datetime(2026, 3, 10, 1, tzinfo=UTC), 0, "red", "due today"),
        (datetime(2026, 3, 9, tzinfo=UTC), -1, "red", "1 day overdue"),
    ],
)
def test_days_left_and_their_colour(due: datetime, days: int, colour: str, words: str) -> None:
    assert days_left(due, NOW) == days
    assert urgency(days).value == colour
    assert describe(days) == words


def test_the_mail_language_comes_from_the_browser() -> None:
    assert preferred_locale("fr-FR,fr;q=0.9,en;q=0.8") == "fr"
    assert preferred_locale(None) is None
    assert preferred_locale("*") is None
