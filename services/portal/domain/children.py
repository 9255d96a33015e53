"""A child's consent in the privacy center (GDPR Art. 8, https://eur-lex.europa.eu/eli/reg/2016/679/oj).

Below the age of digital consent of the person's country, consent to an information-society
service is lawful only if given or authorised by the holder of parental responsibility (Art. 8(1));
Member States may set that age between 13 and 16, and 16 applies where they did not. The consent
service applies the same table when it records the decision (``services/consent/domain/children.py``);
the privacy center needs it first, to ask for the guardian before the form is sent.

Sources: European Commission SWD(2020) 115, the GDPR two-year evaluation, p. 17; France: Loi n° 78-17
art. 45 (https://www.legifrance.gouv.fr/loda/article_lc/LEGIARTI000037090394); Germany: no national
derogation, so Art. 8(1)'s 16; Ireland: Data Protection Act 2018 s. 31; Belgium: loi du 30 juillet 2018
art. 7; Spain: LOPDGDD art. 7; Italy: Codice privacy art. 2-quinquies; Netherlands: UAVG art. 5; United
Kingdom: Data Protection Act 2018 s. 9.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from services.portal.domain.forms import EMAIL, FormError

DEFAULT_AGE = 16  # Art. 8(1), where a Member State set no lower age
# ISO 3166-1 alpha-2 → (name, age of digital consent); Slovenia's 15 (ZVOP-2 art. 8) awaits a primary source.
COUNTRIES: Mapping[str, tuple[str, int]] = MappingProxyType(
    {
        "AT": ("Austria", 14),
        "BE": ("Belgium", 13),
        "BG": ("Bulgaria", 14),
        "HR": ("Croatia", 16),
        "CY": ("Cyprus", 14),
        "CZ": ("Czechia", 15),
        "DK": ("Denmark", 13),
        "EE": ("Estonia", 13),
        "FI": ("Finland", 13),
        "FR": ("France", 15),
        "DE": ("Germany", 16),
        "GR": ("Greece", 15),
        "HU": ("Hungary", 16),
        "IE": ("Ireland", 16),
        "IT": ("Italy", 14),
        "LV": ("Latvia", 13),
        "LT": ("Lithuania", 14),
        "LU": ("Luxembourg", 16),
        "MT": ("Malta", 13),
        "NL": ("Netherlands", 16),
        "PL": ("Poland", 16),
        "PT": ("Portugal", 13),
        "RO": ("Romania", 16),
        "SK": ("Slovakia", 16),
        "SI": ("Slovenia", 15),
        "ES": ("Spain", 14),
        "SE": ("Sweden", 13),
        "GB": ("United Kingdom", 13),
    }
)
OLDEST_BIRTH_YEAR_SPAN = 120


def age_of_consent(country: str) -> int:
    """The age below which the guardian must consent, in ``country`` (16 where the table has no entry)."""
    return COUNTRIES.get(country, ("", DEFAULT_AGE))[1]


@dataclass(frozen=True)
class ChildConsent:
    """What the child's form says: the country, the age this year, and the guardian when one is needed."""

    country: str
    age: int
    guardian_name: str | None = None
    guardian_email: str | None = None

    @property
    def needs_guardian(self) -> bool:
        """Whether the person is under the age of digital consent of their country."""
        return self.age < age_of_consent(self.country)


def _one(form: Mapping[str, Sequence[str]], name: str, limit: int = 320) -> str:
    return ((form.get(name) or [""])[0]).strip()[:limit]


def child_consent(form: Mapping[str, Sequence[str]], this_year: int) -> ChildConsent:
    """The child's form read and checked (raises ``FormError`` naming each field to fix).

    Only the birth year is asked (data minimisation, Art. 5(1)(c)); the age taken is the lower one that
    year allows, before this year's birthday, so the guardian is asked for whenever the person may be
    under the age of their country.
    """
    errors: dict[str, str] = {}
    country = _one(form, "country", 2).upper()
    if country not in COUNTRIES:
        errors["country"] = "Choose the country you live in."
    raw_year = _one(form, "birth_year", 4)
    year = int(raw_year) if raw_year.isdigit() else 0
    if not this_year - OLDEST_BIRTH_YEAR_SPAN <= year <= this_year:
        errors["birth_year"] = f"Enter the year you were born, like {this_year - 20}."
    if errors:
        raise FormError(errors)
    age = max(this_year - year - 1, 0)
    found = ChildConsent(country, age)
    if not found.needs_guardian:
        return found
    name, email = _one(form, "guardian_name", 200), _one(form, "guardian_email")
    if not name:
        errors["guardian_name"] = "Enter the name of your parent or guardian."
    if not EMAIL.match(email):
        errors["guardian_email"] = "Enter your parent's or guardian's email address, like name@example.com."
    if _one(form, "guardian_consent", 8) != "yes":
        errors["guardian_consent"] = "Your parent or guardian must tick the box to give their consent."
    if errors:
        raise FormError(errors)
    return ChildConsent(country, age, name, email)
