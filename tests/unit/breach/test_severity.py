"""ENISA severity scoring and the notification decision, with worked examples."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from services.breach.domain import (
    AvailabilityLoss,
    BreachCircumstances,
    ConfidentialityLoss,
    ContextAdjustment,
    ContextFactor,
    DataCategory,
    DataSet,
    DecisionBasis,
    EaseOfIdentification,
    ExemptionGround,
    IndividualsExemption,
    IntegrityLoss,
    InvalidSeverityInput,
    MissingExemptionReason,
    MissingOverrideReason,
    RiskLevel,
    SeverityLevel,
    assess_severity,
    decide_notification,
    override_decision,
    severity_level,
)

EI = EaseOfIdentification
SIMPLE = DataSet(DataCategory.SIMPLE, description="names and e-mail addresses")


def up(factor: ContextFactor, delta: int) -> ContextAdjustment:
    return ContextAdjustment(factor, delta, f"{factor.value} applies")


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (0.25, SeverityLevel.LOW),
        (1.75, SeverityLevel.LOW),
        (2.0, SeverityLevel.MEDIUM),
        (2.75, SeverityLevel.MEDIUM),
        (3.0, SeverityLevel.HIGH),
        (3.75, SeverityLevel.HIGH),
        (4.0, SeverityLevel.VERY_HIGH),
        (6.0, SeverityLevel.VERY_HIGH),
    ],
)
def test_bands_follow_enisa_cut_points(score: float, level: SeverityLevel) -> None:
    assert severity_level(score) is level


def test_supermarket_customer_list_sent_to_a_known_recipient_is_low() -> None:
    # DPC 1 (simple) × EI 1 + CB 0.25 (known recipients) = 1.25
    result = assess_severity([SIMPLE], EI.MAXIMUM, BreachCircumstances(ConfidentialityLoss.KNOWN_RECIPIENTS))
    assert (result.dpc, result.ei, result.cb, result.score) == (1, 1.0, 0.25, 1.25)
    assert result.level is SeverityLevel.LOW
    assert result.risk is RiskLevel.UNLIKELY


def test_year_of_call_history_is_medium() -> None:
    # behavioural 2 + volume 1 = 3; × EI 0.75 = 2.25; no CB
    calls = DataSet(DataCategory.BEHAVIOURAL, (up(ContextFactor.VOLUME, 1),))
    result = assess_severity([calls], EI.SIGNIFICANT)
    assert (result.dpc, result.score, result.level) == (3, 2.25, SeverityLevel.MEDIUM)


def test_full_card_details_stolen_by_an_attacker_is_very_high() -> None:
    # financial 3 + volume 1 = 4; × 1 + 0.5 (unknown recipients) + 0.5 (malicious) = 5
    cards = DataSet(DataCategory.FINANCIAL, (up(ContextFactor.VOLUME, 1),))
    circumstances = BreachCircumstances(ConfidentialityLoss.UNKNOWN_RECIPIENTS, malicious_intent=True)
    result = assess_severity([cards], EI.MAXIMUM, circumstances)
    assert (result.score, result.level) == (5.0, SeverityLevel.VERY_HIGH)


def test_pseudonymised_health_data_is_low_despite_sensitive_category() -> None:
    # sensitive 4 × EI 0.25 = 1; + 0.5 unknown recipients = 1.5
    health = DataSet(DataCategory.SENSITIVE)
    result = assess_severity([health], EI.NEGLIGIBLE, BreachCircumstances(ConfidentialityLoss.UNKNOWN_RECIPIENTS))
    assert (result.score, result.level) == (1.5, SeverityLevel.LOW)


def test_ransomware_without_backup_reaches_high() -> None:
    # financial 3 × EI 0.75 = 2.25; integrity 0.25 + availability 0.5 (permanent) + malicious 0.5 = 3.5
    circumstances = BreachCircumstances(
        integrity=IntegrityLoss.RECOVERABLE, availability=AvailabilityLoss.PERMANENT, malicious_intent=True
    )
    result = assess_severity([DataSet(DataCategory.FINANCIAL)], EI.SIGNIFICANT, circumstances)
    assert (result.cb, result.score, result.level) == (1.25, 3.5, SeverityLevel.HIGH)


def test_exactly_two_is_medium_not_low() -> None:
    # behavioural 2 × EI 1 = 2.0, the lower edge of medium
    result = assess_severity([DataSet(DataCategory.BEHAVIOURAL)], EI.MAXIMUM)
    assert (result.score, result.level) == (2.0, SeverityLevel.MEDIUM)


def test_highest_category_counts_when_several_apply() -> None:
    result = assess_severity([SIMPLE, DataSet(DataCategory.FINANCIAL)], EI.MAXIMUM)
    assert result.dpc == 3
    assert "highest: financial" in result.rationale


def test_pharmacy_customer_list_is_raised_by_controller_characteristics() -> None:
    pharmacy = DataSet(DataCategory.SIMPLE, (up(ContextFactor.CONTROLLER_CHARACTERISTICS, 2),))
    result = assess_severity([pharmacy], EI.MAXIMUM)
    assert (result.dpc, result.level) == (3, SeverityLevel.HIGH)


def test_dpc_stays_within_one_and_four() -> None:
    raised = DataSet(
        DataCategory.FINANCIAL,
        (up(ContextFactor.VOLUME, 2), up(ContextFactor.INDIVIDUAL_CHARACTERISTICS, 1)),
    )
    lowered = DataSet(DataCategory.SIMPLE, (ContextAdjustment(ContextFactor.PUBLIC_AVAILABILITY, -2, "phone book"),))
    assert (raised.unclamped_score, raised.score) == (6, 4)
    assert (lowered.unclamped_score, lowered.score) == (-1, 1)
    assert "kept within 1–4" in assess_severity([raised], EI.MAXIMUM).rationale


def test_public_availability_lowers_a_score() -> None:
    public = DataSet(DataCategory.BEHAVIOURAL, (ContextAdjustment(ContextFactor.PUBLIC_AVAILABILITY, -1, "public"),))
    assert assess_severity([public], EI.MAXIMUM).score == 1.0


def test_result_records_inputs_and_explains_itself() -> None:
    circumstances = BreachCircumstances(ConfidentialityLoss.UNKNOWN_RECIPIENTS, malicious_intent=True)
    result = assess_severity([SIMPLE], EI.SIGNIFICANT, circumstances)
    assert result.data_sets == (SIMPLE,)
    assert result.ease_of_identification is EI.SIGNIFICANT
    assert result.circumstances == circumstances
    assert result.rationale.startswith("ENISA SE = DPC 1 × EI 0.75 + CB 1 = 1.75 → low.")
    assert "malicious intent +0.5" in result.rationale
    assert "ENISA" in result.methodology


@pytest.mark.parametrize(
    ("factor", "delta"),
    [(ContextFactor.VOLUME, -1), (ContextFactor.INVALIDITY, 1), (ContextFactor.VOLUME, 4), (ContextFactor.VOLUME, 0)],
)
def test_adjustments_must_move_the_right_way_by_one_to_three(factor: ContextFactor, delta: int) -> None:
    with pytest.raises(InvalidSeverityInput):
        ContextAdjustment(factor, delta, "because")


def test_adjustment_needs_a_reason() -> None:
    with pytest.raises(InvalidSeverityInput, match="reason"):
        ContextAdjustment(ContextFactor.VOLUME, 1, "  ")


def test_no_data_category_is_refused() -> None:
    with pytest.raises(InvalidSeverityInput, match="at least one"):
        assess_severity([], EI.MAXIMUM)


def test_low_means_document_only() -> None:
    decision = decide_notification(assess_severity([SIMPLE], EI.MAXIMUM))
    assert (decision.notify_authority, decision.notify_individuals) == (False, False)
    assert decision.basis is DecisionBasis.ENISA
    assert "document only" in decision.rationale


def test_medium_means_authority_only() -> None:
    decision = decide_notification(assess_severity([DataSet(DataCategory.BEHAVIOURAL)], EI.MAXIMUM))
    assert (decision.risk, decision.notify_authority, decision.notify_individuals) == (RiskLevel.RISK, True, False)


def test_high_means_authority_and_people() -> None:
    decision = decide_notification(assess_severity([DataSet(DataCategory.SENSITIVE)], EI.MAXIMUM))
    assert (decision.risk, decision.notify_authority, decision.notify_individuals) == (RiskLevel.HIGH, True, True)


def test_encryption_exemption_spares_individual_notices() -> None:
    exemption = IndividualsExemption(ExemptionGround.UNINTELLIGIBLE, "AES-256, key not compromised")
    decision = decide_notification(assess_severity([DataSet(DataCategory.SENSITIVE)], EI.MAXIMUM), exemption=exemption)
    assert (decision.notify_authority, decision.notify_individuals, decision.public_communication) == (
        True,
        False,
        False,
    )


def test_disproportionate_effort_means_public_communication() -> None:
    exemption = IndividualsExemption(ExemptionGround.DISPROPORTIONATE_EFFORT, "no contact details held")
    decision = decide_notification(assess_severity([DataSet(DataCategory.SENSITIVE)], EI.MAXIMUM), exemption=exemption)
    assert (decision.notify_individuals, decision.public_communication) == (False, True)
    assert "public communication" in decision.rationale


def test_exemption_needs_a_reason() -> None:
    with pytest.raises(MissingExemptionReason):
        IndividualsExemption(ExemptionGround.SUBSEQUENT_MEASURES, "")


def test_override_records_who_and_why() -> None:
    assessment = assess_severity([SIMPLE], EI.MAXIMUM)
    decision = override_decision(
        assessment, RiskLevel.HIGH, reason="the list names protected witnesses", decided_by="DPO Jane Roe"
    )
    assert decision.basis is DecisionBasis.OVERRIDE
    assert (decision.notify_authority, decision.notify_individuals) == (True, True)
    assert (decision.decided_by, decision.override_reason) == ("DPO Jane Roe", "the list names protected witnesses")
    assert "score said unlikely_risk" in decision.rationale
    assert decision.assessment is assessment


@pytest.mark.parametrize(("reason", "decided_by"), [("", "DPO"), ("   ", "DPO"), ("real reason", " ")])
def test_override_without_documentation_is_refused(reason: str, decided_by: str) -> None:
    with pytest.raises(MissingOverrideReason):
        override_decision(None, RiskLevel.UNLIKELY, reason=reason, decided_by=decided_by)


def test_plain_strings_from_the_web_layer_are_accepted() -> None:
    circumstances = BreachCircumstances("unknown_recipients", "none", "temporary")  # type: ignore[arg-type]
    result = assess_severity([DataSet("financial")], "limited", circumstances)  # type: ignore[arg-type]
    assert (result.dpc, result.ei, result.cb, result.score) == (3, 0.5, 0.75, 2.25)
    assert result.ease_of_identification is EI.LIMITED


@pytest.mark.parametrize(
    "build",
    [
        lambda: DataSet("secret"),  # type: ignore[arg-type]
        lambda: BreachCircumstances("leaked"),  # type: ignore[arg-type]
        lambda: assess_severity([SIMPLE], "obvious"),  # type: ignore[arg-type]
    ],
)
def test_unknown_levels_are_refused_clearly(build: Callable[[], object]) -> None:
    with pytest.raises(InvalidSeverityInput, match="use one of"):
        build()
