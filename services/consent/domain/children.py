"""Children's consent (GDPR Art. 8): the age of digital consent per country and the guardian rule.

Below the age of digital consent, consent to an information-society service offered directly to
a child is lawful only if given or authorised by the holder of parental responsibility, and the
controller must make reasonable efforts to verify that (Art. 8(2)).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType

from services.consent.domain.errors import GuardianConsentRequired, InvalidAge, InvalidCountry, InvalidTimestamp

GDPR_DEFAULT_AGE = 16  # Art. 8(1): the age when a Member State has not lowered it, and for unknown countries.
GDPR_MINIMUM_AGE = 13  # Art. 8(1): no Member State may go below 13.
UK_AGE = 13  # Data Protection Act 2018 s.9.

# European Commission Staff Working Document accompanying the two-year GDPR evaluation (June 2020,
# p. 17), cross-checked with the Bird & Bird GDPR tracker "Children"; see regulations.md Part E.3.
EU_AGE_OF_DIGITAL_CONSENT: MappingProxyType[str, int] = MappingProxyType(
    {
        **dict.fromkeys(("BE", "DK", "EE", "FI", "LV", "MT", "PT", "SE"), 13),
        **dict.fromkeys(("AT", "BG", "CY", "IT", "LT", "ES"), 14),
        **dict.fromkeys(("CZ", "FR", "GR", "SI"), 15),
        **dict.fromkeys(("HR", "DE", "HU", "IE", "LU", "NL", "PL", "RO", "SK"), 16),
    }
)
AGE_OF_DIGITAL_CONSENT: MappingProxyType[str, int] = MappingProxyType({**EU_AGE_OF_DIGITAL_CONSENT, "GB": UK_AGE})
# Slovenia (ZVOP-2 Art. 8, in force 26 Jan 2023) is not confirmed from a primary source: a lawyer should sign it off.
UNCONFIRMED_AGES = frozenset({"SI"})
SOURCES = (
    "European Commission SWD(2020) 115, GDPR two-year evaluation, p. 17",
    "https://www.twobirds.com/en/capabilities/practices/privacy-and-data-protection/"
    "general-data-protection-regulation/gdpr-tracker/children",
    "UK Data Protection Act 2018 s.9",
)
# The EU writes Greece "EL" and the United Kingdom "UK"; ISO 3166-1 says GR and GB.
_ALIASES = {"EL": "GR", "UK": "GB"}


class GuardianVerificationMethod(StrEnum):
    """How the controller checked that the consent really comes from the holder of parental responsibility."""

    EMAIL_CONFIRMATION = "email_confirmation"
    PAYMENT_CARD = "payment_card"
    SIGNED_FORM = "signed_form"
    GOVERNMENT_ID = "government_id"
    VIDEO_CALL = "video_call"
    KNOWLEDGE_BASED = "knowledge_based"
    TRUSTED_THIRD_PARTY = "trusted_third_party"


def normalise_country(country: str) -> str:
    """Return the ISO 3166-1 alpha-2 code (upper case; EL→GR, UK→GB) or raise ``InvalidCountry``."""
    code = country.strip().upper() if isinstance(country, str) else ""
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise InvalidCountry("country", f"{country!r} is not an ISO 3166-1 alpha-2 country code such as FR or DE")
    return _ALIASES.get(code, code)


def age_of_digital_consent(country: str | None, *, policy_min_age: int | None = None) -> int:
    """Return the age below which a guardian must consent: the country's age, raised by the tenant's policy."""
    code = None if country is None else normalise_country(country)
    legal = AGE_OF_DIGITAL_CONSENT.get(code, GDPR_DEFAULT_AGE) if code else GDPR_DEFAULT_AGE
    if policy_min_age is None:
        return legal
    if isinstance(policy_min_age, bool) or not isinstance(policy_min_age, int) or not 0 < policy_min_age <= 21:
        raise InvalidAge("policy_min_age", "must be a whole number of years between 1 and 21")
    # A tenant may be stricter than the law, never laxer: a lower age would break Art. 8 in that country.
    return max(legal, policy_min_age)


def age_on(birth_date: date, on_date: date) -> int:
    """Return the age in whole years on a date (someone born on 29 February turns a year older on 1 March)."""
    if birth_date > on_date:
        raise InvalidAge("birth_date", "is after the date of the consent")
    return on_date.year - birth_date.year - ((on_date.month, on_date.day) < (birth_date.month, birth_date.day))


def requires_guardian(
    country: str | None,
    birth_date_or_age: date | int,
    on_date: date | datetime,
    *,
    policy_min_age: int | None = None,
) -> bool:
    """True when a person of this birth date (or age) is below the age of digital consent on the date."""
    age = _age(birth_date_or_age, _as_date(on_date))
    return age < age_of_digital_consent(country, policy_min_age=policy_min_age)


def validate_child_consent(
    country: str | None,
    birth_date_or_age: date | int,
    on_date: date | datetime,
    *,
    guardian_consent: bool,
    verification_method: GuardianVerificationMethod | str | None,
    accepted_methods: Collection[GuardianVerificationMethod] | None = None,
    policy_min_age: int | None = None,
) -> bool:
    """Refuse a child's consent that lacks verified guardian consent; return whether a guardian was required."""
    if not requires_guardian(country, birth_date_or_age, on_date, policy_min_age=policy_min_age):
        return False
    threshold = age_of_digital_consent(country, policy_min_age=policy_min_age)
    if not guardian_consent:
        raise GuardianConsentRequired(
            "guardian_consent",
            f"the person is under {threshold}, the age of digital consent here; the holder of parental "
            "responsibility must give or authorise the consent (GDPR Art. 8(1))",
        )
    if verification_method is None or (isinstance(verification_method, str) and not verification_method.strip()):
        raise GuardianConsentRequired(
            "verification_method",
            "say how the guardian's consent was verified (GDPR Art. 8(2)); one of "
            + ", ".join(m.value for m in GuardianVerificationMethod),
        )
    try:
        method = GuardianVerificationMethod(verification_method)
    except ValueError:
        raise GuardianConsentRequired(
            "verification_method",
            f"unknown verification method {verification_method!r}; one of "
            + ", ".join(m.value for m in GuardianVerificationMethod),
        ) from None
    if accepted_methods is not None and method not in accepted_methods:
        raise GuardianConsentRequired(
            "verification_method", f"{method.value!r} is not a verification method this controller accepts"
        )
    return True


def _as_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidTimestamp("on_date", "must be a date or a timezone-aware datetime")
        return value.date()
    return value


def _age(birth_date_or_age: date | int, on_date: date) -> int:
    # bool is an int in Python; True must not pass for "1 year old".
    if isinstance(birth_date_or_age, bool):
        raise InvalidAge("age", "must be a whole number of years or a birth date")
    if isinstance(birth_date_or_age, int):
        if not 0 <= birth_date_or_age <= 150:
            raise InvalidAge("age", "must be between 0 and 150")
        return birth_date_or_age
    if isinstance(birth_date_or_age, datetime):
        raise InvalidAge("birth_date", "must be a calendar date, not a datetime")
    if isinstance(birth_date_or_age, date):
        return age_on(birth_date_or_age, on_date)
    raise InvalidAge("birth_date", "a birth date or an age is required to apply GDPR Art. 8")
