"""Legal clocks of a personal-data breach: every deadline computed from one awareness time.

Conventions (regulations.md Part B; jurisdictions.json):

* Hour clocks are elapsed time; weekends and holidays never extend them. GDPR lets the hour of
  awareness go uncounted (Reg. 1182/71 Art. 3(1)) but we use ``aware_at + 72h``, the
  conservative reading the reference recommends.
* Day, month and business-day clocks keep the time of day of their start, which is never later
  than the "end of the last day" reading. Business days come from the jurisdiction's
  ``WorkingCalendar`` (weekends only unless the tenant supplies public holidays).
* A rule with no hard limit ("without undue delay", "as soon as feasible") has ``due_at=None``
  and a ``target_at`` the privacy team works to (configurable, 24 hours by default).
* A clock that counts from a later step (NIS2 final report after the incident notification, the
  California AG copy after the individuals' notice) counts from the step's actual time once it
  is known, and until then from that step's deadline; such deadlines are ``provisional``.
* Clocks that start at "determination" (or DORA's "classification") use that time when given;
  until then they start at awareness — earlier, hence safe — and are ``provisional``.

Values the reference marks unconfirmed carry ``verify=True``: a lawyer signs them off first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final

from services.breach.domain.errors import (
    InvalidClockInput,
    InvalidEscalationOffset,
    MissingDelayReasons,
    NaiveDatetime,
    enum_member,
)
from services.breach.domain.severity import RiskLevel
from shared.durations import Duration, add_duration, parse_duration
from shared.workdays import WEEKENDS_ONLY, WorkingCalendar


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


@dataclass(frozen=True)
class Deadline:
    """A computed legal clock for one notice."""

    jurisdiction: Jurisdiction
    audience: Audience
    recipient: str
    starts_at: datetime
    due_at: datetime | None
    target_at: datetime
    rule: str
    citation: str
    verify: bool = False
    provisional: bool = False
    condition: str | None = None

    @property
    def is_hard(self) -> bool:
        """True when the law (or contract) fixes a latest time."""
        return self.due_at is not None


@dataclass(frozen=True)
class BreachScope:
    """What the clocks depend on besides the awareness time."""

    jurisdictions: frozenset[Jurisdiction]
    role: Role = Role.CONTROLLER
    nis2_entity: bool = False
    dora_entity: bool = False
    hipaa_in_scope: bool = False
    risk: RiskLevel | None = None  # None until assessed: every risk-triggered clock runs
    malicious: bool = False
    small_processing_agent: bool = False
    affected: Mapping[Jurisdiction, int] = field(default_factory=dict)
    determined_at: datetime | None = None
    classified_at: datetime | None = None
    sent: Mapping[tuple[Jurisdiction, Audience], datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Coerce plain strings from the web layer so that rule matching compares enum members.
        jurisdictions = frozenset(
            enum_member(Jurisdiction, j, "jurisdiction", InvalidClockInput) for j in self.jurisdictions
        )
        object.__setattr__(self, "jurisdictions", jurisdictions)
        object.__setattr__(self, "role", enum_member(Role, self.role, "role", InvalidClockInput))
        if self.risk is not None:
            object.__setattr__(self, "risk", enum_member(RiskLevel, self.risk, "risk level", InvalidClockInput))


@dataclass(frozen=True)
class ClockSettings:
    """Tenant-configurable parts of the clocks."""

    # Processor → controller: GDPR says only "without undue delay"; a customer contract may fix hours.
    contract_notice_hours: int | None = None
    # Working target for every soft rule; contracts commonly use 24–48 h (regulations.md §B.1).
    undue_delay_target_hours: int = 24
    calendars: Mapping[Jurisdiction, WorkingCalendar] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("contract_notice_hours", "undue_delay_target_hours"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise InvalidClockInput(f"{name} must be a positive number of hours, not {value}")


@dataclass(frozen=True)
class Escalation:
    """An instant at which a deadline is escalated (e.g. 24 h and 4 h before it)."""

    deadline: Deadline
    offset: timedelta
    at: datetime


DEFAULT_ESCALATION_OFFSETS: Final = (timedelta(hours=24), timedelta(hours=4))
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


def compute_deadlines(
    aware_at: datetime, scope: BreachScope, settings: ClockSettings | None = None
) -> tuple[Deadline, ...]:
    """Every deadline that runs for this breach, earliest target first."""
    settings = settings or ClockSettings()
    aware_at = _utc(aware_at, "aware_at")
    _check_scope(aware_at, scope)
    sector = {_J.EU_NIS2: scope.nis2_entity, _J.EU_DORA: scope.dora_entity, _J.US_HIPAA: scope.hipaa_in_scope}
    regimes = set(scope.jurisdictions) | {regime for regime, applies in sector.items() if applies}
    computed: dict[tuple[Jurisdiction, Audience], Deadline] = {}
    for rule in RULES:
        if rule.jurisdiction in regimes and _applies(rule, scope):
            computed[(rule.jurisdiction, rule.audience)] = _deadline(rule, aware_at, scope, settings, computed)
    if scope.role is Role.PROCESSOR and not any(a is Audience.CONTROLLER for _, a in computed):
        computed[(_J.CONTRACT, _A.CONTROLLER)] = _contract_deadline(aware_at, settings)
    return tuple(sorted(computed.values(), key=lambda d: (d.target_at, d.jurisdiction.value, d.audience.value)))


def escalation_points(
    deadlines: Iterable[Deadline], offsets: Sequence[timedelta] = DEFAULT_ESCALATION_OFFSETS
) -> tuple[Escalation, ...]:
    """The instants to escalate each deadline (target minus each offset), skipping any before its clock started."""
    for offset in offsets:
        if offset <= timedelta(0):
            raise InvalidEscalationOffset(f"escalation offsets must be positive (before the deadline), not {offset}")
    points = [
        Escalation(deadline, offset, deadline.target_at - offset)
        for deadline in deadlines
        for offset in sorted(set(offsets), reverse=True)  # "1 day" and "24 hours" escalate once
        if deadline.target_at - offset >= deadline.starts_at
    ]
    return tuple(sorted(points, key=lambda point: (point.at, point.deadline.jurisdiction.value)))


def is_overdue(deadline: Deadline, now: datetime) -> bool:
    """True once ``now`` is past the hard limit; a rule without one is never overdue."""
    now = _utc(now, "now")
    return deadline.due_at is not None and now > deadline.due_at


def is_past_target(deadline: Deadline, now: datetime) -> bool:
    """True once ``now`` is past the working target (the hard limit when there is one)."""
    return _utc(now, "now") > deadline.target_at


def is_late(deadline: Deadline, sent_at: datetime) -> bool:
    """True when a notice was sent after the deadline's hard limit."""
    sent_at = _utc(sent_at, "sent_at")
    return deadline.due_at is not None and sent_at > deadline.due_at


def require_delay_reasons(deadline: Deadline, sent_at: datetime, reasons: str | None) -> None:
    """Refuse a late notice that gives no reasons for the delay (GDPR Art. 33(1), second sentence)."""
    if is_late(deadline, sent_at) and not (reasons and reasons.strip()):
        assert deadline.due_at is not None  # is_late implies a hard limit
        late_by = _utc(sent_at, "sent_at") - deadline.due_at
        raise MissingDelayReasons(
            f"the {deadline.audience.value} notice for {deadline.jurisdiction.value} is sent {late_by} after its "
            f"deadline of {deadline.due_at.isoformat()} ({deadline.citation}); it must give the reasons for the delay"
        )


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetime(f"{name} must be timezone-aware (UTC), got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _check_scope(aware_at: datetime, scope: BreachScope) -> None:
    listed = SECTOR_REGIMES & scope.jurisdictions
    if listed:
        names = ", ".join(sorted(j.value for j in listed))
        raise InvalidClockInput(f"{names}: set nis2_entity / dora_entity / hipaa_in_scope instead of listing them")
    if not scope.jurisdictions and not (scope.nis2_entity or scope.dora_entity or scope.hipaa_in_scope):
        raise InvalidClockInput("at least one jurisdiction is needed to compute breach deadlines")
    for name, value in (("determined_at", scope.determined_at), ("classified_at", scope.classified_at)):
        if value is not None and _utc(value, name) < aware_at:
            raise InvalidClockInput(f"{name} ({value.isoformat()}) is before awareness ({aware_at.isoformat()})")
    for count in scope.affected.values():
        if count < 0:
            raise InvalidClockInput(f"an affected count cannot be negative ({count})")


def _applies(rule: ClockRule, scope: BreachScope) -> bool:
    if rule.role is not None and rule.role is not scope.role:
        return False
    if rule.malicious is not None and rule.malicious is not scope.malicious:
        return False
    count = scope.affected.get(rule.jurisdiction)
    # An unknown count keeps a threshold clock running: the earlier obligation is the safe one.
    if rule.min_affected is not None and count is not None and count < rule.min_affected:
        return False
    if rule.below_affected is not None and (count is None or count >= rule.below_affected):
        return False
    if scope.risk is None or rule.trigger is Trigger.ALWAYS:
        return True
    if rule.trigger is Trigger.RISK:
        return scope.risk is not RiskLevel.UNLIKELY
    return scope.risk is RiskLevel.HIGH


def _deadline(
    rule: ClockRule,
    aware_at: datetime,
    scope: BreachScope,
    settings: ClockSettings,
    computed: Mapping[tuple[Jurisdiction, Audience], Deadline],
) -> Deadline:
    start, start_is_hard, provisional = _start(rule, aware_at, scope, computed)
    calendar = settings.calendars.get(rule.jurisdiction, WEEKENDS_ONLY)
    period = rule.period
    if isinstance(period, BusinessDays) and rule.doubles_for_small_agents and scope.small_processing_agent:
        period = BusinessDays(period.days * 2)
    due_at = _add(start, period, calendar) if period is not None and start_is_hard else None
    if rule.longstop is not None:
        longstop = add_duration(aware_at, rule.longstop)
        due_at = longstop if due_at is None else min(due_at, longstop)
    citation = rule.citation
    # The customer contract turns "without undue delay" into hours; a statutory limit (Florida's 10 days) stands.
    if rule.audience is Audience.CONTROLLER and due_at is None and settings.contract_notice_hours:
        due_at = aware_at + timedelta(hours=settings.contract_notice_hours)
        citation += f"; customer contract ({settings.contract_notice_hours} h)"
    if due_at is not None:
        target_at = due_at
    elif period is not None:
        target_at = _add(start, period, calendar)  # a soft step plus a period: no hard limit, same arithmetic
    else:
        target_at = add_duration(start, rule.target or Duration(hours=settings.undue_delay_target_hours))
    return Deadline(
        jurisdiction=rule.jurisdiction,
        audience=rule.audience,
        recipient=rule.recipient,
        starts_at=start,
        due_at=due_at,
        target_at=target_at,
        rule=rule.rule,
        citation=citation,
        verify=rule.verify,
        provisional=provisional,
        condition=rule.condition,
    )


def _start(
    rule: ClockRule,
    aware_at: datetime,
    scope: BreachScope,
    computed: Mapping[tuple[Jurisdiction, Audience], Deadline],
) -> tuple[datetime, bool, bool]:
    """Where the clock starts, whether that start is a hard instant, and whether it will move."""
    if rule.after is not None:
        sent = scope.sent.get((rule.jurisdiction, rule.after))
        if sent is not None:
            return _utc(sent, "sent"), True, False
        previous = computed.get((rule.jurisdiction, rule.after))
        if previous is None:  # the step it follows does not run here: count from awareness, the safe side
            return aware_at, True, True
        if previous.due_at is not None:
            return previous.due_at, True, True
        return previous.target_at, False, True
    if rule.start is Start.YEAR_END:
        return datetime(aware_at.year + 1, 1, 1, tzinfo=UTC), True, False
    if rule.start is Start.DETERMINATION:
        if scope.determined_at is not None:
            return _utc(scope.determined_at, "determined_at"), True, False
        return aware_at, True, True
    if rule.start is Start.CLASSIFICATION:
        if scope.classified_at is not None:
            return _utc(scope.classified_at, "classified_at"), True, False
        return aware_at, False, True  # only the longstop binds until the incident is classified
    return aware_at, True, False


def _add(start: datetime, period: Period, calendar: WorkingCalendar) -> datetime:
    if isinstance(period, BusinessDays):
        day = calendar.add_working_days(start.date(), period.days)
        return datetime.combine(day, start.timetz())
    return add_duration(start, period)


def _contract_deadline(aware_at: datetime, settings: ClockSettings) -> Deadline:
    hours = settings.contract_notice_hours
    due_at = aware_at + timedelta(hours=hours) if hours else None
    return Deadline(
        jurisdiction=Jurisdiction.CONTRACT,
        audience=Audience.CONTROLLER,
        recipient="controller (customer)",
        starts_at=aware_at,
        due_at=due_at,
        target_at=due_at or aware_at + timedelta(hours=settings.undue_delay_target_hours),
        rule=f"within {hours} hours per the customer contract" if hours else "without undue delay",
        citation="customer contract (data processing agreement)",
    )
