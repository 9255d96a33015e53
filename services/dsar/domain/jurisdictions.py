"""The jurisdiction rule table for rights requests, written as Python data.

Encoded from the reference (regulations.md Part A and jurisdictions.json); the JSON is never read
at run time. A value the reference could not confirm from a primary source is named in the
regime's ``verify`` mapping with the reason: it is a default a tenant may replace with
``Regime.override``, not a settled rule. Not legal advice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from .errors import InvalidRegime, RequestTypeNotCovered, UnknownRegime
from .requests import RequestType


class PeriodUnit(StrEnum):
    """The unit a legal time limit is written in."""

    MONTHS = "months"
    CALENDAR_DAYS = "calendar_days"
    BUSINESS_DAYS = "business_days"


_UNIT_NAMES = {
    PeriodUnit.MONTHS: ("month", "months"),
    PeriodUnit.CALENDAR_DAYS: ("calendar day", "calendar days"),
    PeriodUnit.BUSINESS_DAYS: ("business day", "business days"),
}


@dataclass(frozen=True, slots=True)
class Period:
    """A legal time limit (an amount of months, calendar days or business days) and where it comes from."""

    amount: int
    unit: PeriodUnit
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "unit", PeriodUnit(self.unit))
        if self.amount < 1:
            raise InvalidRegime(f"a period must be at least 1 {_UNIT_NAMES[self.unit][0]}, not {self.amount}")

    def plus(self, other: Period) -> Period:
        """The two periods added, counted as one period from the same start (same unit only)."""
        if other.unit != self.unit:
            raise InvalidRegime(f"cannot add {other} to {self}: the units differ")
        return Period(self.amount + other.amount, self.unit, self.source)

    def __str__(self) -> str:
        singular, plural = _UNIT_NAMES[self.unit]
        return f"{self.amount} {singular if self.amount == 1 else plural}"


def months(amount: int, source: str = "") -> Period:
    """A period of calendar months."""
    return Period(amount, PeriodUnit.MONTHS, source)


def days(amount: int, source: str = "") -> Period:
    """A period of calendar days."""
    return Period(amount, PeriodUnit.CALENDAR_DAYS, source)


def business_days(amount: int, source: str = "") -> Period:
    """A period of business days (weekends and the calendar's public holidays excluded)."""
    return Period(amount, PeriodUnit.BUSINESS_DAYS, source)


@dataclass(frozen=True, slots=True)
class ExtensionRule:
    """The one extension a regime allows: its length, the cap counted from the clock start, its conditions."""

    length: Period | None = None  # None: the controller states the period itself (Switzerland, Singapore)
    max_total: Period | None = None  # None: no statutory cap, counted like length from the clock start
    reasons_before_first_deadline: bool = True
    condition: str = ""
    source: str = ""


class PauseMode(StrEnum):
    """What awaiting identity (or a fee, or clarification) does to the clock."""

    NONE = "none"  # the clock keeps running
    RESTART = "restart"  # the full period runs again from the day the awaited item arrives (UK)
    SUSPEND = "suspend"  # the due date moves by the days spent waiting (a tenant policy, no regime's default)


class PauseGround(StrEnum):
    """Why the controller is waiting on the subject."""

    IDENTITY = "identity"
    FEE = "fee"
    CLARIFICATION = "clarification"


@dataclass(frozen=True, slots=True)
class ClockPause:
    """Whether, and on which grounds, the clock stops while the controller waits on the subject."""

    mode: PauseMode
    grounds: frozenset[PauseGround] = frozenset()
    source: str = ""


@dataclass(frozen=True, slots=True)
class Computation:
    """How the last day is found: the counting rule and whether a weekend or holiday moves it later."""

    rule: str
    rolls_to_working_day: bool


EU_1182_71 = Computation(
    "Regulation (EEC, Euratom) 1182/71 Art. 3: the day of receipt is not counted; a month ends on the "
    "same-numbered day, or the last day of a shorter month; a last day on a Saturday, Sunday or public "
    "holiday moves to the next working day",
    rolls_to_working_day=True,
)
UK_CORRESPONDING_DATE = Computation(
    "ICO corresponding-date rule: from the day of receipt to the same date next month, or the last day of "
    "a shorter month; a weekend or bank holiday moves it to the next working day",
    rolls_to_working_day=True,
)
DAYS_AFTER_RECEIPT = Computation(
    "days counted from the day after receipt; a last day on a weekend or holiday is kept (the earlier, safe date)",
    rolls_to_working_day=False,
)

_NO_PAUSE = ClockPause(PauseMode.NONE)


@dataclass(frozen=True, slots=True)
class Authority:
    """The supervisory authority a refused subject may complain to, named in every refusal."""

    name: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class ClockRule:
    """The clock for one request type: response period, acknowledgement and extension."""

    respond_within: Period
    acknowledge_within: Period | None = None
    extension: ExtensionRule | None = None

    def __post_init__(self) -> None:
        extension = self.extension
        if extension is None:
            return
        # An extension is counted from the clock start together with the first period, so units must agree.
        for part, name in ((extension.length, "extension length"), (extension.max_total, "extension maximum")):
            if part is not None and part.unit != self.respond_within.unit:
                unit = self.respond_within.unit
                raise InvalidRegime(f"{name} is in {part.unit} but the response period is in {unit}")
        first, extra, cap = self.respond_within, extension.length, extension.max_total
        if extra and cap and first.plus(extra).amount > cap.amount:
            raise InvalidRegime(f"{first} + {extra} exceeds the maximum {cap}")


@dataclass(frozen=True, slots=True)
class Regime:
    """One jurisdiction's rules for rights requests."""

    id: str
    name: str
    source: str
    request_types: frozenset[RequestType]
    respond_within: Period
    authority: Authority
    # The defaults are the conservative reading: no acknowledgement step, no extension, no pause, no roll-over.
    acknowledge_within: Period | None = None
    extension: ExtensionRule | None = None
    clock_pause: ClockPause = _NO_PAUSE
    computation: Computation = DAYS_AFTER_RECEIPT
    appeal_within: Period | None = None
    by_type: Mapping[RequestType, ClockRule] = field(default_factory=dict, hash=False)
    verify: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        ClockRule(self.respond_within, self.acknowledge_within, self.extension)  # validates the default clock
        stray = set(self.by_type) - self.request_types
        if stray:
            raise InvalidRegime(f"{self.id}: clocks given for uncovered request types {sorted(stray)}")
        # Read-only views keep a frozen regime frozen.
        object.__setattr__(self, "by_type", MappingProxyType(dict(self.by_type)))
        object.__setattr__(self, "verify", MappingProxyType(dict(self.verify)))

    def clock_for(self, request_type: RequestType) -> ClockRule:
        """The clock for this request type; raise ``RequestTypeNotCovered`` when the regime gives no such right."""
        request_type = RequestType(request_type)
        if request_type not in self.request_types:
            covered = ", ".join(sorted(self.request_types))
            raise RequestTypeNotCovered(f"{self.id} sets no deadline for {request_type} requests (covered: {covered})")
        specific = self.by_type.get(request_type)
        return specific or ClockRule(self.respond_within, self.acknowledge_within, self.extension)

    def counts_working_days(self, request_type: RequestType | None = None) -> bool:
        """True when a public holiday can change a date: a last day rolls over, or a period counts business days."""
        if self.computation.rolls_to_working_day:
            return True
        for kind in [RequestType(request_type)] if request_type else sorted(self.request_types):
            clock = self.clock_for(kind)
            extension = clock.extension.length if clock.extension else None
            periods = (clock.respond_within, clock.acknowledge_within, extension)
            if any(p is not None and p.unit is PeriodUnit.BUSINESS_DAYS for p in periods):
                return True
        return False

    def override(self, **changes: Any) -> Regime:
        """A copy with tenant-chosen values; overridden fields leave ``verify`` since the tenant now owns them."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise InvalidRegime(f"{self.id}: cannot override unknown fields {sorted(unknown)}")
        if "verify" not in changes:
            changes["verify"] = {key: why for key, why in self.verify.items() if key not in changes}
        return replace(self, **changes)


_A, _R, _E = RequestType.ACCESS, RequestType.RECTIFICATION, RequestType.ERASURE
_RS, _P, _O = RequestType.RESTRICTION, RequestType.PORTABILITY, RequestType.OBJECTION

_ROLL_UNCONFIRMED = (
    "whether a last day on a weekend or holiday moves to the next working day is not in the reference; "
    "the earlier date is kept"
)
_STATE_RIGHTS_UNCONFIRMED = (
    "rights list (confirm/access, correct, delete, portable copy, opt out) not in the reference; taken from the statute"
)

EU_GDPR = Regime(
    id="eu-gdpr",
    name="EU General Data Protection Regulation",
    source="Regulation (EU) 2016/679 Arts. 12, 15-22",
    request_types=frozenset(RequestType),
    respond_within=months(1, "GDPR Art. 12(3)"),
    extension=ExtensionRule(
        months(2, "GDPR Art. 12(3)"),
        months(3),
        condition="where necessary, taking into account the complexity and number of the requests",
        source="GDPR Art. 12(3): the subject is told, with the reasons, within one month of receipt",
    ),
    clock_pause=ClockPause(PauseMode.NONE, source="GDPR has no explicit pause; Art. 12(6) allows asking for ID"),
    computation=EU_1182_71,
    authority=Authority(
        "the competent EU/EEA supervisory authority",
        "GDPR Art. 77: of the subject's habitual residence, place of work or place of the alleged infringement; "
        "a refusal also states the right to a judicial remedy (Art. 12(4))",
    ),
    verify={"clock_pause": "no pause in the GDPR text (EDPB 01/2022 §5.3 unconfirmed); tenants may choose one"},
)

UK_GDPR = Regime(
    id="uk-gdpr",
    name="UK GDPR and Data Protection Act 2018 (as amended by the Data (Use and Access) Act 2025)",
    source="UK GDPR Arts. 12, 12A, 15-22",
    request_types=frozenset(RequestType),
    respond_within=months(1, "UK GDPR Art. 12(3)"),
    extension=ExtensionRule(
        months(2, "UK GDPR Art. 12(3)"),
        months(3),
        condition="complex, or a number of requests from the individual",
        source="UK GDPR Art. 12(3); ICO: three months from the original start date, reasons within the first month",
    ),
    clock_pause=ClockPause(
        PauseMode.RESTART,
        frozenset(PauseGround),
        "ICO guidance; Art. 12A UK GDPR (DUAA 2025 ss. 75-79): the time limit runs from receipt of the "
        "requested identity information, fee or clarification",
    ),
    computation=UK_CORRESPONDING_DATE,
    authority=Authority("Information Commissioner's Office (ICO)"),
    verify={"clock_pause": "commencement of Art. 12A UK GDPR unconfirmed; ICO guidance gives the same rule meanwhile"},
)

US_CA_CCPA = Regime(
    id="us-ca-ccpa",
    name="California Consumer Privacy Act as amended by the CPRA",
    source="Cal. Civ. Code 1798.100 et seq.; 11 CCR 7000 et seq.",
    request_types=frozenset({_A, _E, _R, _O}),
    respond_within=days(45, "11 CCR 7021(b); Civ. Code 1798.130(a)(2)"),
    acknowledge_within=business_days(10, "11 CCR 7021(a)"),
    extension=ExtensionRule(
        days(45, "11 CCR 7021(b)"),
        days(90),
        condition="notice and explanation to the consumer",
        source="Civ. Code 1798.130(a)(2): notice within the first 45 days",
    ),
    clock_pause=ClockPause(PauseMode.NONE, source="11 CCR 7021(b): the clock runs regardless of time needed to verify"),
    authority=Authority("California Privacy Protection Agency", "the California Attorney General also enforces"),
    # An opt-out of sale/sharing is the CCPA's objection: no acknowledgement step, no extension.
    by_type={_O: ClockRule(business_days(15, "11 CCR 7026(f): opt-out of sale/sharing"))},
    verify={
        "acknowledge_within": "business days leave out the California holidays of the holidays package (US-CA); "
        "check them against the state holidays 11 CCR 7001 means (e.g. Susan B. Anthony Day, Diwali from 2026)",
        "computation": _ROLL_UNCONFIRMED,
        "authority": "the agency is not named in the reference",
    },
)


def _us_state(regime_id: str, name: str, source: str, authority_name: str, appeal: Period, **verify: str) -> Regime:
    """The Virginia-style pattern: 45 days, one 45-day extension with the reason, an appeal."""
    return Regime(
        id=regime_id,
        name=name,
        source=source,
        request_types=frozenset({_A, _R, _E, _P, _O}),
        respond_within=days(45, source),
        extension=ExtensionRule(
            days(45, source),
            days(90),
            condition="reasonably necessary, taking into account the complexity and number of the requests",
            source=f"{source}: once, the consumer told the reason within the first 45 days",
        ),
        authority=Authority(authority_name, "a refusal carries the justification and the appeal instructions"),
        appeal_within=appeal,
        verify={"computation": _ROLL_UNCONFIRMED, "request_types": _STATE_RIGHTS_UNCONFIRMED, **verify},
    )


US_VA_VCDPA = _us_state(
    "us-va-vcdpa",
    "Virginia Consumer Data Protection Act",
    "Va. Code 59.1-577",
    "Virginia Attorney General",
    days(60, "Va. Code 59.1-577(C)"),
    authority="the Attorney General is not named in the reference",
)
US_CO_CPA = _us_state(
    "us-co-cpa",
    "Colorado Privacy Act",
    "C.R.S. 6-1-1306",
    "Colorado Attorney General",
    days(45, "C.R.S. 6-1-1306(3)"),
    appeal_within="45 days (extendable by 60) unconfirmed",
    extension="reason-within-45-days condition assumed as in Virginia; the reference only says once by 45 days",
)
US_CT_CTDPA = _us_state(
    "us-ct-ctdpa", "Connecticut Data Privacy Act", "C.G.S. 42-518", "Connecticut Attorney General", days(60)
)

BR_LGPD = Regime(
    id="br-lgpd",
    name="Brazil General Personal Data Protection Law (LGPD)",
    source="Lei 13.709/2018 Arts. 18-19",
    request_types=frozenset({_A, _R, _E, _RS, _P, _O}),
    respond_within=days(15, "LGPD Art. 19 II: full declaration within 15 days (simplified format: immediately)"),
    authority=Authority("Autoridade Nacional de Proteção de Dados (ANPD)", "may set sector deadlines (Art. 19 §4)"),
    verify={
        "respond_within": "'15 dias' without 'úteis': calendar days assumed, to confirm with ANPD guidance",
        "request_types": "Art. 19's 15 days is for confirmation and access; other Art. 18 rights reuse it as a default",
        "computation": _ROLL_UNCONFIRMED,
    },
)

CA_PIPEDA = Regime(
    id="ca-pipeda",
    name="Canada Personal Information Protection and Electronic Documents Act (PIPEDA)",
    source="PIPEDA s. 8(3)-(7); Schedule 1 Principle 4.9",
    request_types=frozenset({_A, _R}),
    respond_within=days(30, "PIPEDA s. 8(3)"),
    extension=ExtensionRule(
        days(30, "PIPEDA s. 8(4)"),
        days(60),
        condition="meeting the limit would unreasonably interfere with activities, or consultations make it "
        "impracticable; converting to an alternative format may take longer (override the maximum)",
        source="PIPEDA s. 8(4): notice within 30 days with the new limit, the reasons and the right to complain",
    ),
    authority=Authority("Office of the Privacy Commissioner of Canada", "silence is a deemed refusal (s. 8(5))"),
    verify={
        "computation": _ROLL_UNCONFIRMED,
        "request_types": "correction (Principle 4.9.5) has no own time limit; the access limit is reused",
    },
)

CA_QC_LAW25 = Regime(
    id="ca-qc-law25",
    name="Québec private-sector Act as amended by Law 25",
    source="CQLR c. P-39.1 s. 32",
    request_types=frozenset({_A, _R}),
    respond_within=days(30, "CQLR c. P-39.1 s. 32"),
    authority=Authority("Commission d'accès à l'information du Québec"),
    verify={
        "respond_within": "s. 32 text not retrieved; 30 days from secondary sources",
        "extension": "absence of an extension in the private-sector Act unconfirmed",
        "computation": _ROLL_UNCONFIRMED,
    },
)

CH_NFADP = Regime(
    id="ch-nfadp",
    name="Switzerland revised Federal Act on Data Protection (nFADP)",
    source="FADP (SR 235.1) Arts. 25-26, 28; Data Protection Ordinance (SR 235.11) Arts. 18-19",
    request_types=frozenset({_A, _P}),
    respond_within=days(30, "FADP Art. 25(7); DPO Art. 18(1); after a cost notice, from the end of the 10-day reply"),
    extension=ExtensionRule(condition="over 30 days: tell the subject the period", source="DPO Art. 18(2)"),
    authority=Authority("Federal Data Protection and Information Commissioner (FDPIC)"),
    verify={
        "extension": "DPO Art. 18(2) wording unconfirmed",
        "request_types": "portability (FADP Art. 28) assumed to follow the access time limit",
        "computation": _ROLL_UNCONFIRMED,
    },
)

JP_APPI = Regime(
    id="jp-appi",
    name="Japan Act on the Protection of Personal Information (APPI)",
    source="APPI (Act No. 57 of 2003, as amended; in force 1 April 2022) Arts. 33-35",
    request_types=frozenset({_A, _R, _E}),
    respond_within=days(14, "APPI Art. 33: 'without delay'; 14 days is a product default, not the law"),
    authority=Authority("Personal Information Protection Commission (PPC)"),
    verify={
        "respond_within": "the law says 'without delay' with no day count; 14 calendar days is a product default",
        "request_types": "article numbering and the correction/deletion rights unconfirmed",
    },
)

SG_PDPA = Regime(
    id="sg-pdpa",
    name="Singapore Personal Data Protection Act 2012",
    source="PDPA ss. 21-22; Personal Data Protection Regulations 2021 regs. 4-8",
    request_types=frozenset({_A, _R}),
    respond_within=days(30, "PDPC: within 30 calendar days of receiving the request"),
    extension=ExtensionRule(condition="over 30 days: tell the applicant in writing when", source="reg. 5"),
    authority=Authority("Personal Data Protection Commission (PDPC)", "keep refused data 30 days after (reg. 8)"),
    verify={
        "extension": "reg. 5 extension notice unconfirmed",
        "request_types": "correction (s. 22) assumed to follow the access time limit",
        "computation": _ROLL_UNCONFIRMED,
    },
)

AU_PRIVACY_ACT = Regime(
    id="au-privacy-act",
    name="Australia Privacy Act 1988 (APP 12 access, APP 13 correction)",
    source="Privacy Act 1988 Sch. 1 APP 12.4, APP 13.5",
    request_types=frozenset({_A, _R}),
    respond_within=days(30, "APP 12.4: agencies 30 days; organisations a reasonable period"),
    authority=Authority("Office of the Australian Information Commissioner (OAIC)"),
    verify={
        "respond_within": "organisations: 'reasonable period', about 30 days per OAIC guidelines ch. 12 (unconfirmed)",
        "computation": _ROLL_UNCONFIRMED,
    },
)

_EUROPE = (EU_GDPR, UK_GDPR, CH_NFADP)
_AMERICAS = (US_CA_CCPA, US_VA_VCDPA, US_CO_CPA, US_CT_CTDPA, BR_LGPD, CA_PIPEDA, CA_QC_LAW25)
_ASIA_PACIFIC = (JP_APPI, SG_PDPA, AU_PRIVACY_ACT)
REGIMES: Mapping[str, Regime] = MappingProxyType({r.id: r for r in (*_EUROPE, *_AMERICAS, *_ASIA_PACIFIC)})


def get_regime(regime_id: str) -> Regime:
    """The regime with this id; raise ``UnknownRegime`` naming the known ids otherwise."""
    try:
        return REGIMES[regime_id]
    except KeyError:
        raise UnknownRegime(f"unknown regime {regime_id!r}; known: {', '.join(sorted(REGIMES))}") from None
