"""Breach clock rules as data: every jurisdiction's statutory clocks (regulations.md Part B; jurisdictions.json).

Each ``ClockRule`` names who is told, the period, what it counts from, when it applies and its
citation. ``clocks.py`` turns these rules into deadlines for one breach. Values the reference
marks unconfirmed carry ``verify=True``: a lawyer signs them off first.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from shared.rules.durations import Duration, parse_duration


class Jurisdiction(StrEnum):
    """A regime whose breach clocks may apply (ids follow jurisdictions.json)."""

    EU_GDPR = "eu-gdpr"
    UK_GDPR = "uk-gdpr"
    EU_NIS2 = "eu-nis2"
    EU_DORA = "eu-dora"
    US_HIPAA = "us-hipaa"
    US_CA = "us-ca"
    US_NY = "us-ny"
    US_CO = "us-co"
    US_WA = "us-wa"
    US_TX = "us-tx"
    US_FL = "us-fl"
    US_VT = "us-vt"
    US_OR = "us-or"
    US_MD = "us-md"
    US_CT = "us-ct"
    US_DE = "us-de"
    US_AZ = "us-az"
    US_LA = "us-la"
    US_ME = "us-me"
    US_MA = "us-ma"
    US_IL = "us-il"
    BR_LGPD = "br-lgpd"
    SG_PDPA = "sg-pdpa"
    JP_APPI = "jp-appi"
    AU_PRIVACY_ACT = "au-privacy-act"
    CA_PIPEDA = "ca-pipeda"
    CA_QC_LAW25 = "ca-qc-law25"
    CH_FADP = "ch-nfadp"
    IN_DPDP = "in-dpdp"
    CONTRACT = "contract"  # the customer contract, for a processor where no statute sets a clock


# Sector regimes apply because of what the tenant is, not where people live: set by flags.
SECTOR_REGIMES: Final = frozenset({Jurisdiction.EU_NIS2, Jurisdiction.EU_DORA, Jurisdiction.US_HIPAA})


class Audience(StrEnum):
    """Who a deadline's notice goes to, or which stage of a staged report it is."""

    AUTHORITY = "authority"
    EARLY_WARNING = "early_warning"
    INTERMEDIATE_REPORT = "intermediate_report"
    FINAL_REPORT = "final_report"
    FOLLOW_UP = "follow_up"
    CONTROLLER = "controller"
    INDIVIDUALS = "individuals"
    MEDIA = "media"
    ASSESSMENT = "assessment"


class Role(StrEnum):
    """The tenant's role for the breached processing."""

    CONTROLLER = "controller"
    PROCESSOR = "processor"


class Start(StrEnum):
    """The event a clock counts from."""

    AWARENESS = "awareness"
    DETERMINATION = "determination"
    CLASSIFICATION = "classification"
    YEAR_END = "year_end"


class Trigger(StrEnum):
    """The GDPR-style risk level at which a rule applies (others use their own statutory test)."""

    ALWAYS = "always"
    RISK = "risk"
    HIGH_RISK = "high_risk"


@dataclass(frozen=True)
class BusinessDays:
    """A period counted in working days of the jurisdiction's calendar."""

    days: int


Period = Duration | BusinessDays


@dataclass(frozen=True)
class ClockRule:
    """One statutory clock, as data."""

    jurisdiction: Jurisdiction
    audience: Audience
    recipient: str
    period: Period | None  # None: no hard limit ("without undue delay")
    rule: str
    citation: str
    start: Start = Start.AWARENESS
    after: Audience | None = None  # counts from this same-jurisdiction step instead of `start`
    role: Role | None = Role.CONTROLLER  # None: the entity's own duty whatever its GDPR role
    trigger: Trigger = Trigger.ALWAYS
    min_affected: int | None = None  # applies when the count is unknown or at least this
    below_affected: int | None = None  # applies only when the count is known and below this
    malicious: bool | None = None  # Japan: True/False picks the unlawful-purpose variant
    doubles_for_small_agents: bool = False  # Brazil: small processing agents get twice the time
    target: Duration | None = None  # a guideline target for a soft rule
    longstop: Duration | None = None  # never later than this after awareness (DORA)
    condition: str | None = None
    verify: bool = False


SAME_TIME: Final = Duration()  # "no later than" another notice

_J, _A, _R, _S, _T = Jurisdiction, Audience, Role, Start, Trigger
_P = parse_duration
_SA, _SOON = "supervisory authority", "without undue delay"
_AG = "Attorney General"
_72H = "without undue delay, not later than 72 hours after awareness"


def _state(
    jurisdiction: Jurisdiction,
    citation: str,
    days: int | None,
    regulator: str,
    regulator_period: Period | None,
    regulator_rule: str,
    *,
    start: Start = Start.AWARENESS,
    verify: bool = False,
    regulator_after: Audience | None = None,
    regulator_min: int | None = None,
    regulator_verify: bool = False,
) -> tuple[ClockRule, ClockRule]:
    """A US state's two clocks: the residents' notice, then the regulator's."""
    residents = ClockRule(
        jurisdiction,
        Audience.INDIVIDUALS,
        "affected residents",
        parse_duration(f"P{days}D") if days else None,
        f"within {days} days" if days else "most expedient time, without unreasonable delay",
        citation,
        start=start,
        verify=verify,
    )
    regulator_clock = ClockRule(
        jurisdiction,
        Audience.AUTHORITY,
        regulator,
        regulator_period,
        regulator_rule,
        citation,
        start=start,
        after=regulator_after,
        min_affected=regulator_min,
        verify=verify or regulator_verify,
    )
    return residents, regulator_clock


# fmt: off
RULES: Final[tuple[ClockRule, ...]] = (
    ClockRule(_J.EU_GDPR, _A.AUTHORITY, _SA, _P("PT72H"), _72H, "GDPR Art. 33(1)", trigger=_T.RISK),
    ClockRule(_J.EU_GDPR, _A.INDIVIDUALS, "affected data subjects", None, f"{_SOON} when high risk",
              "GDPR Art. 34(1)", trigger=_T.HIGH_RISK),
    ClockRule(_J.EU_GDPR, _A.CONTROLLER, "controller (customer)", None, _SOON, "GDPR Art. 33(2)", role=_R.PROCESSOR),
    ClockRule(_J.UK_GDPR, _A.AUTHORITY, "Information Commissioner's Office", _P("PT72H"), _72H, "UK GDPR Art. 33(1)",
              trigger=_T.RISK),
    ClockRule(_J.UK_GDPR, _A.INDIVIDUALS, "affected data subjects", None, f"{_SOON} when high risk",
              "UK GDPR Art. 34(1)", trigger=_T.HIGH_RISK),
    ClockRule(_J.UK_GDPR, _A.CONTROLLER, "controller (customer)", None, _SOON, "UK GDPR Art. 33(2)", role=_R.PROCESSOR),
    ClockRule(_J.EU_NIS2, _A.EARLY_WARNING, "CSIRT or competent authority", _P("PT24H"),
              "early warning within 24 hours of awareness of the significant incident", "NIS2 Art. 23(4)(a)",
              role=None),
    ClockRule(_J.EU_NIS2, _A.AUTHORITY, "CSIRT or competent authority", _P("PT72H"),
              "incident notification within 72 hours of awareness", "NIS2 Art. 23(4)(b)", role=None),
    ClockRule(_J.EU_NIS2, _A.FINAL_REPORT, "CSIRT or competent authority", _P("P1M"),
              "final report not later than one month after the incident notification", "NIS2 Art. 23(4)(d)",
              after=_A.AUTHORITY, role=None),
    ClockRule(_J.EU_DORA, _A.AUTHORITY, "financial competent authority", _P("PT4H"),
              "initial notification within 4 hours of classification as major, at most 24 hours after awareness",
              "DORA Art. 19(4); Delegated Reg. (EU) 2025/301", start=_S.CLASSIFICATION, longstop=_P("PT24H"),
              role=None),
    ClockRule(_J.EU_DORA, _A.INTERMEDIATE_REPORT, "financial competent authority", _P("PT72H"),
              "intermediate report within 72 hours of the initial notification", "Delegated Reg. (EU) 2025/301",
              after=_A.AUTHORITY, role=None, verify=True),
    ClockRule(_J.EU_DORA, _A.FINAL_REPORT, "financial competent authority", _P("P1M"),
              "final report within one month of the latest intermediate report", "Delegated Reg. (EU) 2025/301",
              after=_A.INTERMEDIATE_REPORT, role=None),
    ClockRule(_J.US_HIPAA, _A.INDIVIDUALS, "affected individuals", _P("P60D"),
              "without unreasonable delay, no later than 60 days after discovery", "45 CFR §164.404(b)"),
    ClockRule(_J.US_HIPAA, _A.AUTHORITY, "HHS Secretary (OCR portal)", _P("P60D"),
              "500 or more individuals: contemporaneously with the individuals' notice", "45 CFR §164.408(b)",
              min_affected=500),
    ClockRule(_J.US_HIPAA, _A.AUTHORITY, "HHS Secretary (OCR portal)", _P("P60D"),
              "fewer than 500 individuals: within 60 days after the end of the calendar year", "45 CFR §164.408(c)",
              start=_S.YEAR_END, below_affected=500),
    ClockRule(_J.US_HIPAA, _A.MEDIA, "prominent media outlets", _P("P60D"), "no later than 60 days after discovery",
              "45 CFR §164.406", condition="only if more than 500 residents of one State are affected"),
    ClockRule(_J.US_HIPAA, _A.CONTROLLER, "covered entity", _P("P60D"),
              "business associate: no later than 60 days after discovery", "45 CFR §164.410(b)", role=_R.PROCESSOR),
    *_state(_J.US_CA, "Cal. Civ. Code §1798.82", 30, f"California {_AG}", _P("P15D"),
            "sample notice within 15 days after notifying residents (>500 residents)",
            regulator_after=_A.INDIVIDUALS, regulator_min=501),
    ClockRule(_J.US_CA, _A.CONTROLLER, "owner or licensee", None, "maintainer notifies the owner immediately",
              "Cal. Civ. Code §1798.82(b)", role=_R.PROCESSOR),
    *_state(_J.US_NY, "N.Y. Gen. Bus. Law §899-aa", 30, f"New York {_AG}, Department of State, State Police", None,
            regulator_rule="with the residents' notice (DFS-regulated entities: 72 h, 23 NYCRR 500.17)"),
    *_state(_J.US_CO, "C.R.S. §6-1-716", 30, f"Colorado {_AG}", _P("P30D"), start=_S.DETERMINATION, verify=True,
            regulator_min=500, regulator_rule="within 30 days after determination (500 or more residents)"),
    *_state(_J.US_WA, "RCW 19.255.010", 30, f"Washington {_AG}", _P("P30D"), regulator_min=501, regulator_verify=True,
            regulator_rule="within 30 days after discovery, with a sample notice (>500 residents)"),
    *_state(_J.US_TX, "Tex. Bus. & Com. Code §521.053", 60, f"Texas {_AG}", _P("P30D"),
            "as soon as practicable, within 30 days after determination (250+ Texans)",
            start=_S.DETERMINATION, regulator_min=250),
    *_state(_J.US_FL, "Fla. Stat. §501.171", 30, "Florida Department of Legal Affairs", _P("P30D"),
            "within 30 days after determination (500+ residents)", start=_S.DETERMINATION, regulator_min=500),
    ClockRule(_J.US_FL, _A.CONTROLLER, "covered entity (data owner)", _P("P10D"), "third-party agent within 10 days",
              "Fla. Stat. §501.171(6)", role=_R.PROCESSOR),
    *_state(_J.US_VT, "9 V.S.A. §2435", 45, f"Vermont {_AG} (preliminary notice)", BusinessDays(14),
            regulator_rule="preliminary notice within 14 business days of discovery"),
    *_state(_J.US_OR, "ORS 646A.604", 45, f"Oregon {_AG}", _P("P45D"), regulator_min=251, regulator_verify=True,
            regulator_rule="within 45 days (more than 250 residents)"),
    ClockRule(_J.US_OR, _A.CONTROLLER, "owner or licensee", _P("P10D"), "vendor within 10 days of discovery",
              "ORS 646A.604", role=_R.PROCESSOR),
    *_state(_J.US_MD, "Md. Com. Law §14-3504", 45, f"Maryland {_AG}", SAME_TIME,
            "before notifying residents (45 days after the investigation)", start=_S.DETERMINATION,
            regulator_after=_A.INDIVIDUALS),
    *_state(_J.US_CT, "C.G.S. §36a-701b", 60, f"Connecticut {_AG}", SAME_TIME, regulator_after=_A.INDIVIDUALS,
            regulator_rule="no later than the residents' notice"),
    *_state(_J.US_DE, "6 Del. C. §12B-102", 60, f"Delaware {_AG}", None, start=_S.DETERMINATION,
            regulator_min=501, regulator_rule="more than 500 residents; no fixed period"),
    *_state(_J.US_AZ, "A.R.S. §18-552", 45, f"Arizona {_AG} and Department of Homeland Security", None,
            start=_S.DETERMINATION, regulator_min=1001, regulator_rule="more than 1,000 residents; no fixed period"),
    *_state(_J.US_LA, "La. R.S. 51:3074", 60, f"Louisiana {_AG}", _P("P10D"), regulator_after=_A.INDIVIDUALS,
            regulator_rule="within 10 days of distributing the residents' notices"),
    *_state(_J.US_ME, "10 M.R.S. §1348", 30, f"Maine {_AG}", None, verify=True,
            regulator_rule="any resident affected; no fixed period"),
    *_state(_J.US_MA, "M.G.L. c. 93H §3", None, f"Massachusetts {_AG} and OCABR", None,
            regulator_rule="as soon as practicable and without unreasonable delay"),
    *_state(_J.US_IL, "815 ILCS 530/10", None, f"Illinois {_AG}", SAME_TIME, regulator_after=_A.INDIVIDUALS,
            regulator_min=501, regulator_rule="no later than the residents' notice (more than 500 residents)"),
    ClockRule(_J.BR_LGPD, _A.AUTHORITY, "ANPD", BusinessDays(3), "3 business days (6 for small processing agents)",
              "LGPD Art. 48; Resolution CD/ANPD 15/2024", doubles_for_small_agents=True),
    ClockRule(_J.BR_LGPD, _A.INDIVIDUALS, "affected data subjects", BusinessDays(3),
              "3 business days (6 for small processing agents)", "LGPD Art. 48; Resolution CD/ANPD 15/2024",
              doubles_for_small_agents=True),
    ClockRule(_J.BR_LGPD, _A.FOLLOW_UP, "ANPD", BusinessDays(20), "complementary information within 20 business days",
              "Resolution CD/ANPD 15/2024", after=_A.AUTHORITY),
    ClockRule(_J.SG_PDPA, _A.ASSESSMENT, "internal assessment", _P("P30D"), "reasonable and expeditious assessment",
              "PDPA s. 26C; PDPC guidance", verify=True),
    ClockRule(_J.SG_PDPA, _A.AUTHORITY, "Personal Data Protection Commission", _P("P3D"),
              "as soon as practicable, no later than 3 calendar days after determining it is notifiable",
              "PDPA s. 26D(1)", start=_S.DETERMINATION),
    ClockRule(_J.SG_PDPA, _A.INDIVIDUALS, "affected individuals", None, "as soon as practicable, with or after PDPC",
              "PDPA s. 26D(2)", start=_S.DETERMINATION),
    ClockRule(_J.SG_PDPA, _A.CONTROLLER, "organisation (customer)", None, "data intermediary without undue delay",
              "PDPA s. 26C(3)(a)", role=_R.PROCESSOR),
    ClockRule(_J.JP_APPI, _A.EARLY_WARNING, "Personal Information Protection Commission", None,
              "preliminary report promptly (guidelines: generally 3–5 days)", "APPI Art. 26(1)", target=_P("P3D")),
    ClockRule(_J.JP_APPI, _A.FINAL_REPORT, "Personal Information Protection Commission", _P("P30D"),
              "confirmed report within 30 days of awareness", "APPI Art. 26(1)", malicious=False),
    ClockRule(_J.JP_APPI, _A.FINAL_REPORT, "Personal Information Protection Commission", _P("P60D"),
              "confirmed report within 60 days (unlawful purpose)", "APPI Art. 26(1)", malicious=True),
    ClockRule(_J.JP_APPI, _A.INDIVIDUALS, "affected individuals", None, "promptly", "APPI Art. 26(2)"),
    ClockRule(_J.AU_PRIVACY_ACT, _A.ASSESSMENT, "internal assessment", _P("P30D"),
              "reasonable and expeditious assessment within 30 days", "Privacy Act 1988 s. 26WH"),
    ClockRule(_J.AU_PRIVACY_ACT, _A.AUTHORITY, "Office of the Australian Information Commissioner", None,
              "as soon as practicable", "Privacy Act 1988 s. 26WK", start=_S.DETERMINATION),
    ClockRule(_J.AU_PRIVACY_ACT, _A.INDIVIDUALS, "affected individuals", None, "as soon as practicable",
              "Privacy Act 1988 s. 26WL", start=_S.DETERMINATION),
    ClockRule(_J.CA_PIPEDA, _A.AUTHORITY, "Office of the Privacy Commissioner of Canada", None, "as soon as feasible",
              "PIPEDA s. 10.1", start=_S.DETERMINATION),
    ClockRule(_J.CA_PIPEDA, _A.INDIVIDUALS, "affected individuals", None, "as soon as feasible", "PIPEDA s. 10.1",
              start=_S.DETERMINATION),
    ClockRule(_J.CA_QC_LAW25, _A.AUTHORITY, "Commission d'accès à l'information", None, "promptly",
              "CQLR c. P-39.1 s. 3.5"),
    ClockRule(_J.CA_QC_LAW25, _A.INDIVIDUALS, "affected persons", None, "promptly", "CQLR c. P-39.1 s. 3.5"),
    ClockRule(_J.CH_FADP, _A.AUTHORITY, "FDPIC", None, "as quickly as possible when likely high risk",
              "FADP Art. 24(1)", trigger=_T.HIGH_RISK),
    ClockRule(_J.CH_FADP, _A.INDIVIDUALS, "affected persons", None, "if required for their protection or requested",
              "FADP Art. 24(4)", trigger=_T.HIGH_RISK),
    ClockRule(_J.CH_FADP, _A.CONTROLLER, "controller (customer)", None, "as quickly as possible", "FADP Art. 24(3)",
              role=_R.PROCESSOR),
    ClockRule(_J.IN_DPDP, _A.EARLY_WARNING, "Data Protection Board of India", None, "intimation without delay",
              "DPDP Rules 2025 r. 7(1)", verify=True),
    ClockRule(_J.IN_DPDP, _A.AUTHORITY, "Data Protection Board of India", _P("PT72H"),
              "detailed report within 72 hours of awareness", "DPDP Rules 2025 r. 7(2)", verify=True),
    ClockRule(_J.IN_DPDP, _A.INDIVIDUALS, "affected Data Principals", None, "without delay",
              "DPDP Rules 2025 r. 7(1)", verify=True),
)
# fmt: on
