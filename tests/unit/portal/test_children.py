"""A child's consent in the privacy center (GDPR Art. 8): the age of each country, and when a guardian is needed."""

from __future__ import annotations

import pytest

from services.consent.domain.children import AGE_OF_DIGITAL_CONSENT, GDPR_DEFAULT_AGE
from services.portal.domain import FormError
from services.portal.domain.children import COUNTRIES, DEFAULT_AGE, age_of_consent, child_consent

GUARDIAN = {"guardian_name": ["Marie"], "guardian_email": ["marie@example.com"], "guardian_consent": ["yes"]}


def test_the_portal_asks_for_the_guardian_at_the_age_the_consent_service_applies() -> None:
    assert {code: age for code, (_, age) in COUNTRIES.items()} == dict(AGE_OF_DIGITAL_CONSENT)
    assert DEFAULT_AGE == GDPR_DEFAULT_AGE == age_of_consent("US")


@pytest.mark.parametrize(
    ("country", "age"), [("FR", 15), ("DE", 16), ("IE", 16), ("BE", 13), ("ES", 14), ("IT", 14), ("NL", 16)]
)
def test_worked_ages_per_member_state(country: str, age: int) -> None:
    assert age_of_consent(country) == age


@pytest.mark.parametrize(
    ("birth_year", "needs"),
    [("2011", False), ("2012", True), ("2010", False)],  # in 2026: born 2011 is at least 14, born 2012 maybe 13
)
def test_the_lower_age_a_birth_year_allows_decides(birth_year: str, needs: bool) -> None:
    form = {"country": ["ES"], "birth_year": [birth_year]} | GUARDIAN
    assert child_consent(form, 2026).needs_guardian is needs


def test_under_the_age_the_guardian_is_required_and_kept() -> None:
    with pytest.raises(FormError) as missing:
        child_consent({"country": ["fr"], "birth_year": ["2015"]}, 2026)
    assert set(missing.value.errors) == {"guardian_name", "guardian_email", "guardian_consent"}
    given = child_consent({"country": ["fr"], "birth_year": ["2015"]} | GUARDIAN, 2026)
    assert (given.country, given.age, given.guardian_email) == ("FR", 10, "marie@example.com")


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"country": ["US"], "birth_year": ["2000"]}, "country"),
        ({"country": ["FR"], "birth_year": ["2027"]}, "birth_year"),
        ({"country": ["FR"], "birth_year": ["1900"]}, "birth_year"),
        ({"country": ["FR"], "birth_year": [""]}, "birth_year"),
    ],
)
def test_a_bad_country_or_year_is_named(form: dict[str, list[str]], field: str) -> None:
    with pytest.raises(FormError) as bad:
        child_consent(form, 2026)
    assert field in bad.value.errors
