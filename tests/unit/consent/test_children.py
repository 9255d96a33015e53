from datetime import UTC, date, datetime

import pytest

from services.consent.domain import (
    AGE_OF_DIGITAL_CONSENT,
    EU_AGE_OF_DIGITAL_CONSENT,
    UNCONFIRMED_AGES,
    GuardianConsentRequired,
    GuardianVerificationMethod,
    InvalidAge,
    InvalidCountry,
    InvalidTimestamp,
    age_of_digital_consent,
    age_on,
    requires_guardian,
    validate_child_consent,
)
from services.consent.domain.children import SOURCES

EU_27 = {
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
}  # fmt: skip


class TestAgeTable:
    def test_covers_exactly_the_27_member_states(self) -> None:
        assert set(EU_AGE_OF_DIGITAL_CONSENT) == EU_27

    def test_every_age_is_within_article_8_bounds(self) -> None:
        assert all(13 <= age <= 16 for age in EU_AGE_OF_DIGITAL_CONSENT.values())

    @pytest.mark.parametrize(
        ("age", "countries"),
        [
            (13, ["BE", "DK", "EE", "FI", "LV", "MT", "PT", "SE"]),
            (14, ["AT", "BG", "CY", "IT", "LT", "ES"]),
            (15, ["CZ", "FR", "GR", "SI"]),
            (16, ["HR", "DE", "HU", "IE", "LU", "NL", "PL", "RO", "SK"]),
        ],
    )
    def test_matches_the_reference_table(self, age: int, countries: list[str]) -> None:
        assert {c: AGE_OF_DIGITAL_CONSENT[c] for c in countries} == dict.fromkeys(countries, age)

    def test_worked_examples(self) -> None:
        assert age_of_digital_consent("FR") == 15
        assert age_of_digital_consent("DE") == 16
        assert age_of_digital_consent("BE") == 13
        assert age_of_digital_consent("GB") == 13

    def test_aliases_and_case(self) -> None:
        assert age_of_digital_consent(" fr ") == 15
        assert age_of_digital_consent("EL") == 15  # the EU's code for Greece
        assert age_of_digital_consent("uk") == 13

    def test_other_or_unknown_countries_get_the_gdpr_default(self) -> None:
        assert age_of_digital_consent("US") == 16
        assert age_of_digital_consent(None) == 16

    def test_slovenia_is_flagged_unconfirmed_and_sources_are_kept(self) -> None:
        assert {"SI"} == UNCONFIRMED_AGES
        assert any("twobirds" in source for source in SOURCES)

    @pytest.mark.parametrize("country", ["", "FRA", "F", "12", "É1"])
    def test_rejects_malformed_country(self, country: str) -> None:
        with pytest.raises(InvalidCountry, match=r"^country: "):
            age_of_digital_consent(country)

    def test_tenant_policy_can_only_raise_the_age(self) -> None:
        # The design's privacy policy says "parental consent under 14": stricter in Belgium, not laxer in France.
        assert age_of_digital_consent("BE", policy_min_age=14) == 14
        assert age_of_digital_consent("FR", policy_min_age=14) == 15

    @pytest.mark.parametrize("policy", [0, 22, True, -1])
    def test_rejects_absurd_policy_age(self, policy: int) -> None:
        with pytest.raises(InvalidAge, match=r"^policy_min_age: "):
            age_of_digital_consent("FR", policy_min_age=policy)


class TestRequiresGuardian:
    @pytest.mark.parametrize(
        ("country", "age", "expected"),
        [
            ("FR", 14, True),
            ("FR", 15, False),
            ("DE", 15, True),
            ("DE", 16, False),
            ("BE", 12, True),
            ("BE", 13, False),
            ("GB", 12, True),
            ("US", 15, True),
        ],
    )
    def test_by_age(self, country: str, age: int, expected: bool) -> None:
        assert requires_guardian(country, age, date(2025, 1, 1)) is expected

    def test_by_birth_date_around_the_birthday(self) -> None:
        born = date(2010, 6, 15)
        assert requires_guardian("FR", born, date(2025, 6, 14)) is True
        assert requires_guardian("FR", born, date(2025, 6, 15)) is False

    def test_leap_day_birthday_turns_older_on_first_march(self) -> None:
        born = date(2008, 2, 29)
        assert age_on(born, date(2023, 2, 28)) == 14
        assert age_on(born, date(2023, 3, 1)) == 15
        assert age_on(born, date(2024, 2, 29)) == 16
        assert requires_guardian("FR", born, date(2023, 2, 28)) is True
        assert requires_guardian("FR", born, date(2023, 3, 1)) is False

    def test_accepts_an_aware_datetime(self) -> None:
        assert requires_guardian("FR", date(2010, 6, 15), datetime(2025, 6, 15, 8, tzinfo=UTC)) is False

    def test_rejects_a_naive_datetime(self) -> None:
        with pytest.raises(InvalidTimestamp):
            requires_guardian("FR", 12, datetime(2025, 6, 15, 8))

    @pytest.mark.parametrize("age", [-1, 151, True])
    def test_rejects_impossible_age(self, age: int) -> None:
        with pytest.raises(InvalidAge):
            requires_guardian("FR", age, date(2025, 1, 1))

    def test_rejects_birth_after_consent(self) -> None:
        with pytest.raises(InvalidAge, match=r"^birth_date: "):
            requires_guardian("FR", date(2026, 1, 1), date(2025, 1, 1))

    def test_rejects_missing_or_wrong_birth_data(self) -> None:
        with pytest.raises(InvalidAge):
            requires_guardian("FR", None, date(2025, 1, 1))  # type: ignore[arg-type]
        with pytest.raises(InvalidAge):
            requires_guardian("FR", datetime(2010, 1, 1, tzinfo=UTC), date(2025, 1, 1))

    def test_policy_age(self) -> None:
        assert requires_guardian("BE", 13, date(2025, 1, 1), policy_min_age=14) is True


class TestValidateChildConsent:
    on = date(2025, 1, 1)

    def test_adult_needs_nothing(self) -> None:
        assert validate_child_consent("FR", 30, self.on, guardian_consent=False, verification_method=None) is False

    def test_child_without_guardian_is_refused(self) -> None:
        with pytest.raises(GuardianConsentRequired) as caught:
            validate_child_consent("FR", 14, self.on, guardian_consent=False, verification_method=None)
        assert caught.value.field == "guardian_consent"
        assert "under 15" in caught.value.detail
        assert "Art. 8(1)" in caught.value.detail

    @pytest.mark.parametrize("method", [None, "", "  "])
    def test_child_without_verification_is_refused(self, method: str | None) -> None:
        with pytest.raises(GuardianConsentRequired) as caught:
            validate_child_consent("FR", 14, self.on, guardian_consent=True, verification_method=method)
        assert caught.value.field == "verification_method"
        assert "Art. 8(2)" in caught.value.detail

    def test_unknown_method_is_refused(self) -> None:
        with pytest.raises(GuardianConsentRequired, match="unknown verification method 'pinky_swear'"):
            validate_child_consent("FR", 14, self.on, guardian_consent=True, verification_method="pinky_swear")

    def test_method_not_accepted_by_tenant_is_refused(self) -> None:
        with pytest.raises(GuardianConsentRequired, match="not a verification method this controller accepts"):
            validate_child_consent(
                "FR",
                14,
                self.on,
                guardian_consent=True,
                verification_method=GuardianVerificationMethod.EMAIL_CONFIRMATION,
                accepted_methods={GuardianVerificationMethod.PAYMENT_CARD},
            )

    def test_verified_guardian_consent_is_accepted(self) -> None:
        assert (
            validate_child_consent("FR", 14, self.on, guardian_consent=True, verification_method="payment_card") is True
        )
        assert validate_child_consent(
            "BE",
            12,
            self.on,
            guardian_consent=True,
            verification_method=GuardianVerificationMethod.SIGNED_FORM,
            accepted_methods={GuardianVerificationMethod.SIGNED_FORM},
        )
