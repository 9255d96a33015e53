"""Breach severity by the ENISA methodology and the notification decision it leads to.

ENISA, "Recommendations for a methodology of the assessment of severity of personal data
breaches", Working Document v1.0, December 2013: ``SE = DPC × EI + CB``.

* DPC (data processing context, 1–4): the basic score of the data category, moved up or down
  by contextual factors, kept within 1–4; with several categories the highest counts.
* EI (ease of identification): a multiplier of 0.25, 0.5, 0.75 or 1.
* CB (circumstances of the breach): additions for loss of confidentiality, integrity,
  availability (0 / 0.25 / 0.5 each) and malicious intent (0.5).

Every input is a multiple of 0.25, so float arithmetic here is exact and the band cut points
(2, 3, 4) compare without rounding error.

Mapping a band to a GDPR outcome is a product choice, not part of ENISA (regulations.md §C.1):
low → unlikely to result in a risk (document only), medium → risk (notify the authority),
high / very high → high risk (authority and individuals). The legal test stays "risk" and
"high risk", so a person may override the outcome with a documented reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, TypeVar

from services.breach.domain.errors import (
    InvalidSeverityInput,
    MissingExemptionReason,
    MissingOverrideReason,
    enum_member,
)

_E = TypeVar("_E", bound=StrEnum)

METHODOLOGY: Final = "ENISA severity methodology v1.0 (Dec 2013)"
DPC_MIN, DPC_MAX = 1, 4


class DataCategory(StrEnum):
    """ENISA data categories (Annex 1)."""

    SIMPLE = "simple"  # name, contact, biographical, education, professional
    BEHAVIOURAL = "behavioural"  # location, traffic data, preferences, habits
    FINANCIAL = "financial"  # income, transactions, statements, cards
    SENSITIVE = "sensitive"  # Art. 9-type data: health, political opinions, sexual life…


BASIC_DPC: Final[Mapping[DataCategory, int]] = {
    DataCategory.SIMPLE: 1,
    DataCategory.BEHAVIOURAL: 2,
    DataCategory.FINANCIAL: 3,
    DataCategory.SENSITIVE: 4,
}


class ContextFactor(StrEnum):
    """Contextual factors that move the basic DPC score (ENISA Annex A2)."""

    VOLUME = "volume"
    CONTROLLER_CHARACTERISTICS = "controller_characteristics"
    INDIVIDUAL_CHARACTERISTICS = "individual_characteristics"
    INVALIDITY = "invalidity"
    PUBLIC_AVAILABILITY = "public_availability"
    NATURE_OF_DATA = "nature_of_data"


INCREASING_FACTORS: Final = frozenset(
    {ContextFactor.VOLUME, ContextFactor.CONTROLLER_CHARACTERISTICS, ContextFactor.INDIVIDUAL_CHARACTERISTICS}
)
DECREASING_FACTORS: Final = frozenset(
    {ContextFactor.INVALIDITY, ContextFactor.PUBLIC_AVAILABILITY, ContextFactor.NATURE_OF_DATA}
)


class EaseOfIdentification(StrEnum):
    """How easily individuals are identified from the breached data."""

    NEGLIGIBLE = "negligible"
    LIMITED = "limited"
    SIGNIFICANT = "significant"
    MAXIMUM = "maximum"


EI_VALUES: Final[Mapping[EaseOfIdentification, float]] = {
    EaseOfIdentification.NEGLIGIBLE: 0.25,
    EaseOfIdentification.LIMITED: 0.5,
    EaseOfIdentification.SIGNIFICANT: 0.75,
    EaseOfIdentification.MAXIMUM: 1.0,
}


class ConfidentialityLoss(StrEnum):
    """Loss of confidentiality: exposed only / known recipients / unknown number of recipients."""

    NONE = "none"
    KNOWN_RECIPIENTS = "known_recipients"
    UNKNOWN_RECIPIENTS = "unknown_recipients"


class IntegrityLoss(StrEnum):
    """Loss of integrity: altered without misuse / recoverable misuse / unrecoverable misuse."""

    NONE = "none"
    RECOVERABLE = "recoverable"
    NOT_RECOVERABLE = "not_recoverable"


class AvailabilityLoss(StrEnum):
    """Loss of availability: recoverable without difficulty / temporary / permanent."""

    NONE = "none"
    TEMPORARY = "temporary"
    PERMANENT = "permanent"


CB_CONFIDENTIALITY: Final[Mapping[ConfidentialityLoss, float]] = {
    ConfidentialityLoss.NONE: 0.0,
    ConfidentialityLoss.KNOWN_RECIPIENTS: 0.25,
    ConfidentialityLoss.UNKNOWN_RECIPIENTS: 0.5,
}
CB_INTEGRITY: Final[Mapping[IntegrityLoss, float]] = {
    IntegrityLoss.NONE: 0.0,
    IntegrityLoss.RECOVERABLE: 0.25,
    IntegrityLoss.NOT_RECOVERABLE: 0.5,
}
CB_AVAILABILITY: Final[Mapping[AvailabilityLoss, float]] = {
    AvailabilityLoss.NONE: 0.0,
    AvailabilityLoss.TEMPORARY: 0.25,
    AvailabilityLoss.PERMANENT: 0.5,
}
CB_MALICIOUS_INTENT: Final = 0.5


class SeverityLevel(StrEnum):
    """ENISA severity bands: low < 2 ≤ medium < 3 ≤ high < 4 ≤ very high."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very_high"


class RiskLevel(StrEnum):
    """The GDPR outcome (EDPB 9/2022): document only, notify the authority, or also tell people."""

    UNLIKELY = "unlikely_risk"
    RISK = "risk"
    HIGH = "high_risk"


RISK_FOR_LEVEL: Final[Mapping[SeverityLevel, RiskLevel]] = {
    SeverityLevel.LOW: RiskLevel.UNLIKELY,
    SeverityLevel.MEDIUM: RiskLevel.RISK,
    SeverityLevel.HIGH: RiskLevel.HIGH,
    SeverityLevel.VERY_HIGH: RiskLevel.HIGH,
}


@dataclass(frozen=True)
class ContextAdjustment:
    """One contextual factor moving a category's DPC score, with the reason it applies."""

    factor: ContextFactor
    delta: int
    reason: str

    def __post_init__(self) -> None:
        if not 1 <= abs(self.delta) <= DPC_MAX - DPC_MIN:
            raise InvalidSeverityInput(f"adjustment for {self.factor} must move the score by 1 to 3, not {self.delta}")
        if self.factor in INCREASING_FACTORS and self.delta < 0:
            raise InvalidSeverityInput(f"{self.factor} can only increase the DPC score; got {self.delta}")
        if self.factor in DECREASING_FACTORS and self.delta > 0:
            raise InvalidSeverityInput(f"{self.factor} can only decrease the DPC score; got +{self.delta}")
        if not self.reason.strip():
            raise InvalidSeverityInput(f"adjustment for {self.factor} needs a reason")


@dataclass(frozen=True)
class DataSet:
    """One category of breached data and the context adjustments that apply to it."""

    category: DataCategory
    adjustments: tuple[ContextAdjustment, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "category", _coerce(DataCategory, self.category, "data category"))

    @property
    def basic_score(self) -> int:
        """The ENISA basic score of the category."""
        return BASIC_DPC[self.category]

    @property
    def unclamped_score(self) -> int:
        """Basic score plus every adjustment, before keeping it within 1–4."""
        return self.basic_score + sum(adjustment.delta for adjustment in self.adjustments)

    @property
    def score(self) -> int:
        """The DPC score of this data set, kept within 1–4 as ENISA requires."""
        return max(DPC_MIN, min(DPC_MAX, self.unclamped_score))


@dataclass(frozen=True)
class BreachCircumstances:
    """What happened to the data (the CB criterion)."""

    confidentiality: ConfidentialityLoss = ConfidentialityLoss.NONE
    integrity: IntegrityLoss = IntegrityLoss.NONE
    availability: AvailabilityLoss = AvailabilityLoss.NONE
    malicious_intent: bool = False

    def __post_init__(self) -> None:
        # Coerce plain strings from the web layer, refusing unknown levels with a clear message.
        for name, enum in (
            ("confidentiality", ConfidentialityLoss),
            ("integrity", IntegrityLoss),
            ("availability", AvailabilityLoss),
        ):
            object.__setattr__(self, name, _coerce(enum, getattr(self, name), f"loss of {name}"))

    @property
    def score(self) -> float:
        """The CB addition."""
        return (
            CB_CONFIDENTIALITY[self.confidentiality]
            + CB_INTEGRITY[self.integrity]
            + CB_AVAILABILITY[self.availability]
            + (CB_MALICIOUS_INTENT if self.malicious_intent else 0.0)
        )


@dataclass(frozen=True)
class SeverityAssessment:
    """The ENISA result together with every input it was computed from."""

    data_sets: tuple[DataSet, ...]
    ease_of_identification: EaseOfIdentification
    circumstances: BreachCircumstances
    dpc: int
    ei: float
    cb: float
    score: float
    level: SeverityLevel
    rationale: str
    methodology: str = METHODOLOGY

    @property
    def risk(self) -> RiskLevel:
        """The GDPR outcome this band maps to."""
        return RISK_FOR_LEVEL[self.level]


class ExemptionGround(StrEnum):
    """GDPR Art. 34(3): when a high-risk breach need not be told to each person."""

    UNINTELLIGIBLE = "unintelligible"  # (a) e.g. state-of-the-art encryption, key not compromised
    SUBSEQUENT_MEASURES = "subsequent_measures"  # (b) the high risk is no longer likely to materialise
    DISPROPORTIONATE_EFFORT = "disproportionate_effort"  # (c) public communication instead


@dataclass(frozen=True)
class IndividualsExemption:
    """A documented Art. 34(3) ground for not telling each person."""

    ground: ExemptionGround
    reason: str

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise MissingExemptionReason(f"the Art. 34(3) exemption '{self.ground}' needs a documented reason")


class DecisionBasis(StrEnum):
    """Where a notification decision came from."""

    ENISA = "enisa"
    OVERRIDE = "override"


@dataclass(frozen=True)
class NotificationDecision:
    """Whom to notify, and why."""

    risk: RiskLevel
    notify_authority: bool
    notify_individuals: bool
    public_communication: bool
    basis: DecisionBasis
    rationale: str
    assessment: SeverityAssessment | None = None
    exemption: IndividualsExemption | None = None
    decided_by: str | None = None
    override_reason: str | None = None


@dataclass(frozen=True)
class _Outcome:
    notify_authority: bool
    notify_individuals: bool
    public_communication: bool
    text: str


def severity_level(score: float) -> SeverityLevel:
    """The ENISA band of a severity score (low < 2, medium < 3, high < 4, else very high)."""
    if score < 2:
        return SeverityLevel.LOW
    if score < 3:
        return SeverityLevel.MEDIUM
    if score < 4:
        return SeverityLevel.HIGH
    return SeverityLevel.VERY_HIGH


def assess_severity(
    data_sets: Sequence[DataSet],
    ease_of_identification: EaseOfIdentification,
    circumstances: BreachCircumstances | None = None,
) -> SeverityAssessment:
    """Score a breach with ENISA's ``SE = DPC × EI + CB`` and explain the result."""
    if not data_sets:
        raise InvalidSeverityInput("at least one category of breached data is needed to compute the DPC score")
    circumstances = circumstances or BreachCircumstances()
    ease_of_identification = _coerce(EaseOfIdentification, ease_of_identification, "ease of identification")
    worst = max(data_sets, key=lambda data_set: data_set.score)
    dpc = worst.score
    ei = EI_VALUES[ease_of_identification]
    cb = circumstances.score
    score = dpc * ei + cb
    level = severity_level(score)
    rationale = " ".join(
        (
            f"ENISA SE = DPC {dpc} × EI {ei:g} + CB {cb:g} = {score:.2f} → {level.value.replace('_', ' ')}.",
            _dpc_text(data_sets, worst),
            f"EI {ease_of_identification.value} ({ei:g}).",
            _cb_text(circumstances),
        )
    )
    return SeverityAssessment(
        data_sets=tuple(data_sets),
        ease_of_identification=ease_of_identification,
        circumstances=circumstances,
        dpc=dpc,
        ei=ei,
        cb=cb,
        score=score,
        level=level,
        rationale=rationale,
    )


def decide_notification(
    assessment: SeverityAssessment, *, exemption: IndividualsExemption | None = None
) -> NotificationDecision:
    """Turn an ENISA assessment into whom to notify (authority unless unlikely risk; people when high)."""
    outcome = _outcome(assessment.risk, exemption)
    return NotificationDecision(
        risk=assessment.risk,
        notify_authority=outcome.notify_authority,
        notify_individuals=outcome.notify_individuals,
        public_communication=outcome.public_communication,
        basis=DecisionBasis.ENISA,
        rationale=f"{assessment.rationale} {outcome.text}",
        assessment=assessment,
        exemption=exemption,
    )


def override_decision(
    assessment: SeverityAssessment | None,
    risk: RiskLevel,
    *,
    reason: str,
    decided_by: str,
    exemption: IndividualsExemption | None = None,
) -> NotificationDecision:
    """Set the risk level by human judgement instead of the score; the reason and decider are mandatory."""
    if not reason.strip():
        raise MissingOverrideReason("overriding the severity outcome requires a documented reason")
    if not decided_by.strip():
        raise MissingOverrideReason("overriding the severity outcome requires the name of who decided")
    outcome = _outcome(risk, exemption)
    scored = f" (score said {assessment.risk.value}, SE {assessment.score:.2f})" if assessment else ""
    return NotificationDecision(
        risk=risk,
        notify_authority=outcome.notify_authority,
        notify_individuals=outcome.notify_individuals,
        public_communication=outcome.public_communication,
        basis=DecisionBasis.OVERRIDE,
        rationale=f"Overridden to {risk.value}{scored} by {decided_by.strip()}: {reason.strip()} {outcome.text}",
        assessment=assessment,
        exemption=exemption,
        decided_by=decided_by.strip(),
        override_reason=reason.strip(),
    )


def _outcome(risk: RiskLevel, exemption: IndividualsExemption | None) -> _Outcome:
    if risk is RiskLevel.UNLIKELY:
        return _Outcome(False, False, False, "Unlikely to result in a risk: document only (Art. 33(5)).")
    if risk is RiskLevel.RISK:
        return _Outcome(True, False, False, "Risk: notify the supervisory authority (Art. 33(1)).")
    if exemption is None:
        return _Outcome(True, True, False, "High risk: notify the authority and the individuals (Art. 34(1)).")
    # Disproportionate effort still requires telling people, through a public communication (Art. 34(3)(c)).
    public = exemption.ground is ExemptionGround.DISPROPORTIONATE_EFFORT
    instead = "; public communication instead." if public else "."
    return _Outcome(
        True,
        False,
        public,
        f"High risk: notify the authority; individuals not told one by one under Art. 34(3) "
        f"({exemption.ground.value}: {exemption.reason.strip()}){instead}",
    )


def _coerce(enum: type[_E], value: str, what: str) -> _E:
    return enum_member(enum, value, what, InvalidSeverityInput)


def _dpc_text(data_sets: Sequence[DataSet], worst: DataSet) -> str:
    parts = []
    for data_set in data_sets:
        text = f"{data_set.category.value} basic {data_set.basic_score}"
        for adjustment in data_set.adjustments:
            text += f", {adjustment.factor.value} {adjustment.delta:+d} ({adjustment.reason.strip()})"
        if data_set.score != data_set.unclamped_score:
            text += f", kept within {DPC_MIN}–{DPC_MAX}"
        parts.append(f"{text} = {data_set.score}")
    if len(parts) == 1:
        return f"DPC: {parts[0]}."
    return f"DPC is the highest of: {'; '.join(parts)} (highest: {worst.category.value})."


def _cb_text(circumstances: BreachCircumstances) -> str:
    items = [
        f"confidentiality {circumstances.confidentiality.value} +{CB_CONFIDENTIALITY[circumstances.confidentiality]:g}",
        f"integrity {circumstances.integrity.value} +{CB_INTEGRITY[circumstances.integrity]:g}",
        f"availability {circumstances.availability.value} +{CB_AVAILABILITY[circumstances.availability]:g}",
    ]
    if circumstances.malicious_intent:
        items.append(f"malicious intent +{CB_MALICIOUS_INTENT:g}")
    return "CB: " + ", ".join(items) + "."
