"""International transfers (GDPR Chapter V): where a subprocessor may process data, and on what basis.

Processing inside the EEA needs no transfer mechanism. Outside it, the location needs one of:
an adequacy decision for that country (Art. 45), the EU-US Data Privacy Framework for a certified
US importer, SCCs or BCRs (Art. 46–47), or an Art. 49 derogation (occasional transfers only).
The lists below are data, with their sources, so that a lawyer can check and update them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType

from .errors import InvalidLocation, NaiveDatetime, TransferNotAllowed, UnknownTransferMechanism


class TransferMechanism(StrEnum):
    """The legal basis for processing personal data outside the EEA."""

    ADEQUACY = "adequacy"
    SCCS = "sccs"
    BCRS = "bcrs"
    EU_US_DPF = "eu_us_dpf"
    DEROGATION = "derogation"


# The 27 EU Member States plus Iceland, Liechtenstein and Norway, by ISO 3166-1 alpha-2 code.
EEA_COUNTRIES: MappingProxyType[str, str] = MappingProxyType(
    {
        "AT": "Austria",
        "BE": "Belgium",
        "BG": "Bulgaria",
        "HR": "Croatia",
        "CY": "Cyprus",
        "CZ": "Czechia",
        "DK": "Denmark",
        "EE": "Estonia",
        "FI": "Finland",
        "FR": "France",
        "DE": "Germany",
        "GR": "Greece",
        "HU": "Hungary",
        "IE": "Ireland",
        "IT": "Italy",
        "LV": "Latvia",
        "LT": "Lithuania",
        "LU": "Luxembourg",
        "MT": "Malta",
        "NL": "Netherlands",
        "PL": "Poland",
        "PT": "Portugal",
        "RO": "Romania",
        "SK": "Slovakia",
        "SI": "Slovenia",
        "ES": "Spain",
        "SE": "Sweden",
        "IS": "Iceland",
        "LI": "Liechtenstein",
        "NO": "Norway",
    }
)
EEA_SOURCES: tuple[str, ...] = (
    "Agreement on the European Economic Area, OJ L 1, 3.1.1994, p. 3 (EU Member States, Iceland, Liechtenstein, "
    "Norway)",
    "https://european-union.europa.eu/principles-countries-history/eu-countries_en",
)

# Codes people write that are not ISO 3166 alpha-2: the EU's own code for Greece, and "UK".
_ALIASES = MappingProxyType({"EL": "GR", "UK": "GB"})


@dataclass(frozen=True, slots=True)
class AdequacyDecision:
    """A Commission adequacy decision (Art. 45 GDPR) for a country, territory or organisation."""

    code: str
    name: str
    scope: str | None = None
    instrument: str | None = None
    adopted_on: date | None = None
    valid_until: date | None = None
    # The US decision covers only importers certified under the EU-US Data Privacy Framework.
    dpf_only: bool = False

    def is_in_force(self, on: date) -> bool:
        """True unless the decision has expired by ``on``."""
        return self.valid_until is None or on <= self.valid_until


def _decisions(*decisions: AdequacyDecision) -> MappingProxyType[str, AdequacyDecision]:
    return MappingProxyType({decision.code: decision for decision in decisions})


# reference/regulations.md §D.5, as of December 2025. Keys are ISO 3166 alpha-2 codes, except the
# European Patent Organisation, an international organisation with no country code.
ADEQUACY_AS_OF = "2025-12"
ADEQUACY_DECISIONS: MappingProxyType[str, AdequacyDecision] = _decisions(
    AdequacyDecision("AD", "Andorra"),
    AdequacyDecision("AR", "Argentina"),
    AdequacyDecision("CA", "Canada", scope="commercial organisations subject to PIPEDA only"),
    AdequacyDecision("FO", "Faroe Islands"),
    AdequacyDecision("GG", "Guernsey"),
    AdequacyDecision("IL", "Israel"),
    AdequacyDecision("IM", "Isle of Man"),
    AdequacyDecision("JP", "Japan"),
    AdequacyDecision("JE", "Jersey"),
    AdequacyDecision("NZ", "New Zealand"),
    AdequacyDecision("KR", "Republic of Korea"),
    AdequacyDecision("CH", "Switzerland"),
    AdequacyDecision(
        "GB",
        "United Kingdom",
        scope="GDPR and LED; renewed 19 Dec 2025",
        valid_until=date(2031, 12, 27),
    ),
    AdequacyDecision(
        "US",
        "United States",
        scope="organisations certified under the EU-US Data Privacy Framework only",
        instrument="Commission Implementing Decision (EU) 2023/1795 of 10 July 2023",
        adopted_on=date(2023, 7, 10),
        dpf_only=True,
    ),
    AdequacyDecision("UY", "Uruguay"),
    AdequacyDecision(
        "EPO",
        "European Patent Organisation",
        scope="first adequacy decision for an international organisation",
        adopted_on=date(2025, 7, 15),
    ),
)
ADEQUACY_SOURCES: tuple[str, ...] = (
    "https://commission.europa.eu/law/law-topic/data-protection/international-dimension-data-protection/"
    "adequacy-decisions_en",
    "https://cnpd.public.lu/en/dossiers-thematiques/transferts-internationaux-donnees-personnelles/"
    "transferts-dehors-eee-protection-adequate.html",
    "https://www.globalpolicywatch.com/2025/07/adequacy-decision-for-the-european-patent-organisation/",
    "https://www.dpocentre.com/news/eu-renews-uk-personal-data-adequacy-decisions",
    "https://www.kslaw.com/news-and-insights/framework-intact-for-now-eu-us-data-flows-dodge-another-bullet",
)

_ALPHA2 = re.compile(r"^[A-Z]{2}$")


def normalise_location(location: str) -> str:
    """The ISO 3166 alpha-2 code for a location (``el`` → ``GR``, ``UK`` → ``GB``), or InvalidLocation."""
    code = location.strip().upper() if isinstance(location, str) else ""
    code = _ALIASES.get(code, code)
    if not _ALPHA2.match(code) and code not in ADEQUACY_DECISIONS:
        raise InvalidLocation(f"{location!r} is not an ISO 3166 alpha-2 country code (examples: FR, DE, US, GB)")
    return code


def is_in_eea(location: str) -> bool:
    """True when the location is an EEA country (no transfer mechanism needed)."""
    return normalise_location(location) in EEA_COUNTRIES


def parse_mechanism(value: str | TransferMechanism) -> TransferMechanism:
    """A transfer mechanism from its text, or UnknownTransferMechanism."""
    try:
        return TransferMechanism(value.strip().lower() if isinstance(value, str) else value)
    except ValueError:
        accepted = ", ".join(member.value for member in TransferMechanism)
        raise UnknownTransferMechanism(f"unknown transfer mechanism {value!r}; expected one of: {accepted}") from None


def validate_transfer(
    location: str,
    mechanism: str | TransferMechanism | None,
    *,
    at: datetime,
    dpf_certified: bool = False,
) -> TransferMechanism | None:
    """Check that processing in ``location`` has a valid basis at ``at``; return the mechanism (None inside the EEA).

    ``dpf_certified`` states that the importer's DPF certification was checked and is active.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise NaiveDatetime(f"at must be a timezone-aware datetime (UTC), got naive {at.isoformat()}")
    code = normalise_location(location)
    if code in EEA_COUNTRIES:
        return None
    if mechanism is None:
        raise TransferNotAllowed(
            f"processing in {code} is outside the EEA and needs a transfer mechanism "
            f"({', '.join(member.value for member in TransferMechanism)})"
        )
    chosen = parse_mechanism(mechanism)
    if chosen is TransferMechanism.ADEQUACY:
        _check_adequacy(code, at.date())
    elif chosen is TransferMechanism.EU_US_DPF:
        if code != "US":
            raise TransferNotAllowed(f"the EU-US Data Privacy Framework only covers the United States, not {code}")
        if not dpf_certified:
            raise TransferNotAllowed(
                "the EU-US Data Privacy Framework needs the importer's active DPF certification; "
                "check it on the DPF list, or use SCCs"
            )
    # SCCs, BCRs and derogations are valid anywhere; their own conditions (a transfer impact
    # assessment, an approved BCR, an occasional transfer) are checked by people, not here.
    return chosen


def _check_adequacy(code: str, on: date) -> None:
    decision = ADEQUACY_DECISIONS.get(code)
    if decision is None:
        raise TransferNotAllowed(
            f"there is no EU adequacy decision for {code} (list as of {ADEQUACY_AS_OF}); use SCCs or BCRs"
        )
    if decision.dpf_only:
        raise TransferNotAllowed(
            f"the adequacy decision for {decision.name} covers DPF-certified organisations only; use eu_us_dpf"
        )
    if decision.valid_until is not None and not decision.is_in_force(on):
        raise TransferNotAllowed(
            f"the adequacy decision for {decision.name} expired on {decision.valid_until.isoformat()}"
        )
