"""Breach clocks with worked times: one awareness instant, every deadline it starts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from services.breach.domain import (
    Audience,
    BreachScope,
    ClockSettings,
    Deadline,
    InvalidClockInput,
    InvalidEscalationOffset,
    Jurisdiction,
    MissingDelayReasons,
    NaiveDatetime,
    RiskLevel,
    Role,
    compute_deadlines,
    escalation_points,
    is_late,
    is_overdue,
    is_past_target,
    require_delay_reasons,
)
from shared.rules.workdays import WorkingCalendar

J, A = Jurisdiction, Audience
AWARE = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)  # a Friday


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


Found = dict[tuple[Jurisdiction, Audience], Deadline]


def clocks(
    *jurisdictions: Jurisdiction, aware: datetime = AWARE, settings: ClockSettings | None = None, **scope: Any
) -> Found:
    found = compute_deadlines(aware, BreachScope(frozenset(jurisdictions), **scope), settings)
    return {(d.jurisdiction, d.audience): d for d in found}


def due(deadlines: Found, jurisdiction: Jurisdiction, audience: Audience) -> datetime | None:
    return deadlines[(jurisdiction, audience)].due_at


# --- Europe -----------------------------------------------------------------------------------


def test_gdpr_authority_is_due_72_hours_after_awareness() -> None:
    deadline = clocks(J.EU_GDPR)[(J.EU_GDPR, A.AUTHORITY)]
    assert deadline.due_at == at("2026-03-09T15:00:00")  # the weekend does not extend an hour clock
    assert deadline.target_at == deadline.due_at
    assert deadline.citation == "GDPR Art. 33(1)"
    assert not deadline.verify


def test_gdpr_individuals_have_no_hard_limit_but_a_target() -> None:
    deadline = clocks(J.EU_GDPR)[(J.EU_GDPR, A.INDIVIDUALS)]
    assert deadline.due_at is None
    assert deadline.target_at == at("2026-03-07T15:00:00")


def test_uk_gdpr_notifies_the_ico_within_72_hours() -> None:
    deadline = clocks(J.UK_GDPR)[(J.UK_GDPR, A.AUTHORITY)]
    assert (deadline.due_at, deadline.recipient) == (at("2026-03-09T15:00:00"), "Information Commissioner's Office")


def test_offset_awareness_time_is_normalised_to_utc() -> None:
    paris = timezone(timedelta(hours=1))
    found = clocks(J.EU_GDPR, aware=datetime(2026, 3, 6, 16, 0, tzinfo=paris))
    assert due(found, J.EU_GDPR, A.AUTHORITY) == at("2026-03-09T15:00:00")


def test_unlikely_risk_stops_the_gdpr_clocks() -> None:
    found = clocks(J.EU_GDPR, risk=RiskLevel.UNLIKELY)
    assert (J.EU_GDPR, A.AUTHORITY) not in found
    assert (J.EU_GDPR, A.INDIVIDUALS) not in found


def test_risk_without_high_risk_means_authority_only() -> None:
    found = clocks(J.EU_GDPR, J.CH_FADP, risk=RiskLevel.RISK)
    assert (J.EU_GDPR, A.AUTHORITY) in found
    assert (J.EU_GDPR, A.INDIVIDUALS) not in found
    assert (J.CH_FADP, A.AUTHORITY) not in found  # Switzerland notifies only a likely high risk


def test_nis2_runs_only_for_entities_in_scope() -> None:
    assert not any(j is J.EU_NIS2 for j, _ in clocks(J.EU_GDPR))
    found = clocks(J.EU_GDPR, nis2_entity=True)
    assert due(found, J.EU_NIS2, A.EARLY_WARNING) == at("2026-03-07T15:00:00")
    assert due(found, J.EU_NIS2, A.AUTHORITY) == at("2026-03-09T15:00:00")
    final = found[(J.EU_NIS2, A.FINAL_REPORT)]
    assert (final.due_at, final.provisional) == (at("2026-04-09T15:00:00"), True)


def test_nis2_final_report_counts_from_the_notification_actually_sent() -> None:
    sent = {(J.EU_NIS2, A.AUTHORITY): at("2026-03-08T09:30:00")}
    final = clocks(J.EU_GDPR, nis2_entity=True, sent=sent)[(J.EU_NIS2, A.FINAL_REPORT)]
    assert (final.due_at, final.provisional) == (at("2026-04-08T09:30:00"), False)


def test_nis2_final_report_clamps_to_month_end() -> None:
    final = clocks(nis2_entity=True, aware=at("2026-01-28T10:00:00"))[(J.EU_NIS2, A.FINAL_REPORT)]
    assert final.due_at == at("2026-02-28T10:00:00")  # 31 Jan + one month = 28 Feb


def test_dora_initial_notification_is_four_hours_after_classification() -> None:
    found = clocks(dora_entity=True, classified_at=at("2026-03-06T20:00:00"))
    initial = found[(J.EU_DORA, A.AUTHORITY)]
    assert (initial.due_at, initial.provisional) == (at("2026-03-07T00:00:00"), False)
    assert due(found, J.EU_DORA, A.INTERMEDIATE_REPORT) == at("2026-03-10T00:00:00")
    assert found[(J.EU_DORA, A.INTERMEDIATE_REPORT)].verify
    assert due(found, J.EU_DORA, A.FINAL_REPORT) == at("2026-04-10T00:00:00")


def test_dora_initial_notification_never_later_than_24_hours_after_awareness() -> None:
    late_classification = clocks(dora_entity=True, classified_at=at("2026-03-07T13:00:00"))
    assert due(late_classification, J.EU_DORA, A.AUTHORITY) == at("2026-03-07T15:00:00")
    unclassified = clocks(dora_entity=True)[(J.EU_DORA, A.AUTHORITY)]
    assert (unclassified.due_at, unclassified.provisional) == (at("2026-03-07T15:00:00"), True)


# --- Processor -> controller -------------------------------------------------------------------


def test_processor_tells_the_controller_without_undue_delay_by_default() -> None:
    found = clocks(J.EU_GDPR, role=Role.PROCESSOR)
    assert set(found) == {(J.EU_GDPR, A.CONTROLLER)}  # the authority clock is the controller's duty
    deadline = found[(J.EU_GDPR, A.CONTROLLER)]
    assert (deadline.due_at, deadline.target_at) == (None, at("2026-03-07T15:00:00"))


def test_customer_contract_hours_become_a_hard_limit() -> None:
    settings = ClockSettings(contract_notice_hours=48)
    deadline = clocks(J.EU_GDPR, role=Role.PROCESSOR, settings=settings)[(J.EU_GDPR, A.CONTROLLER)]
    assert deadline.due_at == at("2026-03-08T15:00:00")
    assert "customer contract (48 h)" in deadline.citation


def test_target_for_undue_delay_is_configurable() -> None:
    settings = ClockSettings(undue_delay_target_hours=12)
    deadline = clocks(J.EU_GDPR, role=Role.PROCESSOR, settings=settings)[(J.EU_GDPR, A.CONTROLLER)]
    assert deadline.target_at == at("2026-03-07T03:00:00")


def test_processor_without_a_statutory_clock_falls_back_to_the_contract() -> None:
    found = clocks(J.BR_LGPD, role=Role.PROCESSOR, settings=ClockSettings(contract_notice_hours=36))
    assert due(found, J.CONTRACT, A.CONTROLLER) == at("2026-03-08T03:00:00")


def test_processor_statutory_limits_in_the_us() -> None:
    found = clocks(J.US_FL, J.US_OR, role=Role.PROCESSOR, hipaa_in_scope=True)
    assert due(found, J.US_FL, A.CONTROLLER) == at("2026-03-16T15:00:00")  # 10 days
    assert due(found, J.US_OR, A.CONTROLLER) == at("2026-03-16T15:00:00")
    assert due(found, J.US_HIPAA, A.CONTROLLER) == at("2026-05-05T15:00:00")  # business associate, 60 days


def test_sector_regimes_still_run_for_a_processor() -> None:
    found = clocks(J.EU_GDPR, role=Role.PROCESSOR, nis2_entity=True)
    assert (J.EU_NIS2, A.EARLY_WARNING) in found


# --- United States -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "individuals", "regulator"),
    [
        (J.US_CA, "2026-04-05T15:00:00", "2026-04-20T15:00:00"),  # 30 days; AG 15 days after residents
        (J.US_NY, "2026-04-05T15:00:00", None),  # 30 days; AG alongside, no fixed period
        (J.US_CO, "2026-04-05T15:00:00", "2026-04-05T15:00:00"),  # 30 / 30 days after determination
        (J.US_WA, "2026-04-05T15:00:00", "2026-04-05T15:00:00"),  # 30 / 30 days
        (J.US_TX, "2026-05-05T15:00:00", "2026-04-05T15:00:00"),  # 60 days; AG 30 days
        (J.US_FL, "2026-04-05T15:00:00", "2026-04-05T15:00:00"),  # 30 / 30 days
        (J.US_VT, "2026-04-20T15:00:00", "2026-03-26T15:00:00"),  # 45 days; AG 14 business days
        (J.US_CT, "2026-05-05T15:00:00", "2026-05-05T15:00:00"),  # 60 days; AG no later than residents
        (J.US_LA, "2026-05-05T15:00:00", "2026-05-15T15:00:00"),  # 60 days; AG 10 days after residents
    ],
)
def test_us_state_clocks(state: Jurisdiction, individuals: str, regulator: str | None) -> None:
    found = clocks(state)
    assert due(found, state, A.INDIVIDUALS) == at(individuals)
    assert due(found, state, A.AUTHORITY) == (at(regulator) if regulator else None)


def test_california_ag_counts_from_the_residents_notice_once_sent() -> None:
    sent = {(J.US_CA, A.INDIVIDUALS): at("2026-03-20T12:00:00")}
    regulator = clocks(J.US_CA, sent=sent)[(J.US_CA, A.AUTHORITY)]
    assert (regulator.due_at, regulator.provisional) == (at("2026-04-04T12:00:00"), False)


def test_regulator_thresholds_count_residents_of_that_state() -> None:
    few = clocks(J.US_TX, J.US_CA, affected={J.US_TX: 249, J.US_CA: 500})
    assert (J.US_TX, A.AUTHORITY) not in few
    assert (J.US_CA, A.AUTHORITY) not in few  # California needs more than 500
    many = clocks(J.US_TX, J.US_CA, affected={J.US_TX: 250, J.US_CA: 501})
    assert (J.US_TX, A.AUTHORITY) in many
    assert (J.US_CA, A.AUTHORITY) in many


def test_determination_moves_the_clock_of_determination_states() -> None:
    before = clocks(J.US_TX)[(J.US_TX, A.INDIVIDUALS)]
    assert before.provisional
    after = clocks(J.US_TX, determined_at=at("2026-03-10T09:00:00"))[(J.US_TX, A.INDIVIDUALS)]
    assert (after.due_at, after.provisional) == (at("2026-05-09T09:00:00"), False)


def test_secondary_source_values_are_flagged_verify() -> None:
    found = clocks(J.US_CO, J.US_WA, J.US_CA)
    assert found[(J.US_CO, A.INDIVIDUALS)].verify
    assert found[(J.US_WA, A.AUTHORITY)].verify
    assert not found[(J.US_WA, A.INDIVIDUALS)].verify
    assert not found[(J.US_CA, A.INDIVIDUALS)].verify


def test_hipaa_60_days_for_500_or_more() -> None:
    found = clocks(hipaa_in_scope=True, affected={J.US_HIPAA: 800})
    assert due(found, J.US_HIPAA, A.INDIVIDUALS) == at("2026-05-05T15:00:00")
    assert due(found, J.US_HIPAA, A.AUTHORITY) == at("2026-05-05T15:00:00")
    assert due(found, J.US_HIPAA, A.MEDIA) == at("2026-05-05T15:00:00")


def test_hipaa_under_500_reports_60_days_after_year_end() -> None:
    found = clocks(hipaa_in_scope=True, affected={J.US_HIPAA: 120})
    assert due(found, J.US_HIPAA, A.AUTHORITY) == at("2027-03-02T00:00:00")  # end of 1 March 2027


def test_hipaa_unknown_count_assumes_the_earlier_clock() -> None:
    assert due(clocks(hipaa_in_scope=True), J.US_HIPAA, A.AUTHORITY) == at("2026-05-05T15:00:00")


# --- Rest of the world -------------------------------------------------------------------------


def test_brazil_three_business_days_from_a_thursday_lands_on_tuesday() -> None:
    found = clocks(J.BR_LGPD, aware=at("2026-03-05T10:00:00"))
    assert due(found, J.BR_LGPD, A.AUTHORITY) == at("2026-03-10T10:00:00")
    assert due(found, J.BR_LGPD, A.INDIVIDUALS) == at("2026-03-10T10:00:00")
    follow_up = found[(J.BR_LGPD, A.FOLLOW_UP)]  # 20 business days after the notification
    assert (follow_up.due_at, follow_up.provisional) == (at("2026-04-07T10:00:00"), True)


def test_brazil_small_processing_agents_get_six_business_days() -> None:
    found = clocks(J.BR_LGPD, aware=at("2026-03-05T10:00:00"), small_processing_agent=True)
    assert due(found, J.BR_LGPD, A.AUTHORITY) == at("2026-03-13T10:00:00")


def test_brazil_public_holidays_are_skipped() -> None:
    carnival = WorkingCalendar.with_holidays([date(2026, 2, 16), date(2026, 2, 17)])
    settings = ClockSettings(calendars={J.BR_LGPD: carnival})
    found = clocks(J.BR_LGPD, aware=at("2026-02-12T10:00:00"), settings=settings)
    assert due(found, J.BR_LGPD, A.AUTHORITY) == at("2026-02-19T10:00:00")


def test_singapore_three_days_after_the_assessment() -> None:
    found = clocks(J.SG_PDPA, determined_at=at("2026-03-09T02:00:00"))
    authority = found[(J.SG_PDPA, A.AUTHORITY)]
    assert (authority.due_at, authority.provisional) == (at("2026-03-12T02:00:00"), False)
    assessment = found[(J.SG_PDPA, A.ASSESSMENT)]
    assert (assessment.due_at, assessment.verify) == (at("2026-04-05T15:00:00"), True)


def test_singapore_before_assessment_counts_from_awareness() -> None:
    authority = clocks(J.SG_PDPA)[(J.SG_PDPA, A.AUTHORITY)]
    assert (authority.due_at, authority.provisional) == (at("2026-03-09T15:00:00"), True)


def test_japan_confirmed_report_30_or_60_days() -> None:
    found = clocks(J.JP_APPI)
    assert due(found, J.JP_APPI, A.FINAL_REPORT) == at("2026-04-05T15:00:00")
    assert found[(J.JP_APPI, A.EARLY_WARNING)].target_at == at("2026-03-09T15:00:00")  # guideline 3 days
    assert due(clocks(J.JP_APPI, malicious=True), J.JP_APPI, A.FINAL_REPORT) == at("2026-05-05T15:00:00")


def test_australia_assesses_within_30_days_then_notifies_as_soon_as_practicable() -> None:
    found = clocks(J.AU_PRIVACY_ACT)
    assert due(found, J.AU_PRIVACY_ACT, A.ASSESSMENT) == at("2026-04-05T15:00:00")
    assert due(found, J.AU_PRIVACY_ACT, A.AUTHORITY) is None


@pytest.mark.parametrize("jurisdiction", [J.CH_FADP, J.CA_PIPEDA, J.CA_QC_LAW25])
def test_as_soon_as_possible_regimes_have_a_target_only(jurisdiction: Jurisdiction) -> None:
    deadline = clocks(jurisdiction)[(jurisdiction, A.AUTHORITY)]
    assert (deadline.due_at, deadline.target_at) == (None, at("2026-03-07T15:00:00"))
    assert not deadline.is_hard


def test_india_detailed_report_72_hours_flagged_verify() -> None:
    found = clocks(J.IN_DPDP)
    assert due(found, J.IN_DPDP, A.AUTHORITY) == at("2026-03-09T15:00:00")
    assert all(deadline.verify for (j, _), deadline in found.items() if j is J.IN_DPDP)


def test_deadlines_are_sorted_by_target() -> None:
    found = compute_deadlines(AWARE, BreachScope(frozenset({J.EU_GDPR, J.US_CA, J.BR_LGPD}), nis2_entity=True))
    targets = [deadline.target_at for deadline in found]
    assert targets == sorted(targets)


# --- Input validation --------------------------------------------------------------------------


def test_naive_awareness_is_refused() -> None:
    with pytest.raises(NaiveDatetime):
        compute_deadlines(datetime(2026, 3, 6, 15, 0), BreachScope(frozenset({J.EU_GDPR})))


def test_sector_regime_listed_as_a_jurisdiction_is_refused() -> None:
    with pytest.raises(InvalidClockInput, match="nis2_entity"):
        compute_deadlines(AWARE, BreachScope(frozenset({J.EU_NIS2})))


def test_empty_scope_is_refused() -> None:
    with pytest.raises(InvalidClockInput, match="at least one"):
        compute_deadlines(AWARE, BreachScope(frozenset()))


def test_determination_before_awareness_is_refused() -> None:
    with pytest.raises(InvalidClockInput, match="before awareness"):
        compute_deadlines(AWARE, BreachScope(frozenset({J.SG_PDPA}), determined_at=at("2026-03-05T00:00:00")))


def test_non_positive_settings_are_refused() -> None:
    with pytest.raises(InvalidClockInput):
        ClockSettings(undue_delay_target_hours=0)


# --- Escalation, overdue, late notices ---------------------------------------------------------


def test_escalation_at_t_minus_24h_and_t_minus_4h() -> None:
    gdpr = clocks(J.EU_GDPR, risk=RiskLevel.RISK)[(J.EU_GDPR, A.AUTHORITY)]
    points = escalation_points([gdpr])
    assert [point.at for point in points] == [at("2026-03-08T15:00:00"), at("2026-03-09T11:00:00")]
    assert [point.offset for point in points] == [timedelta(hours=24), timedelta(hours=4)]


def test_escalation_before_the_clock_started_is_skipped() -> None:
    early_warning = clocks(nis2_entity=True, aware=AWARE)[(J.EU_NIS2, A.EARLY_WARNING)]
    dora = clocks(dora_entity=True, classified_at=at("2026-03-06T20:00:00"))[(J.EU_DORA, A.AUTHORITY)]
    offsets = [timedelta(hours=24), timedelta(hours=4), timedelta(days=1)]  # one day = 24 h: escalated once
    points = escalation_points([early_warning, dora], offsets=offsets)
    assert [(p.deadline.jurisdiction, p.at) for p in points] == [
        (J.EU_NIS2, at("2026-03-06T15:00:00")),  # T-24h coincides with awareness: kept
        (J.EU_DORA, at("2026-03-06T20:00:00")),  # T-4h of the DORA clock; T-24h falls before awareness
        (J.EU_NIS2, at("2026-03-07T11:00:00")),
    ]


def test_escalation_uses_the_target_of_soft_deadlines() -> None:
    individuals = clocks(J.EU_GDPR)[(J.EU_GDPR, A.INDIVIDUALS)]
    assert [p.at for p in escalation_points([individuals])] == [at("2026-03-06T15:00:00"), at("2026-03-07T11:00:00")]


def test_escalation_offsets_must_be_positive() -> None:
    with pytest.raises(InvalidEscalationOffset):
        escalation_points([], offsets=[timedelta(0)])


def test_overdue_only_after_the_hard_limit() -> None:
    found = clocks(J.EU_GDPR)
    authority, individuals = found[(J.EU_GDPR, A.AUTHORITY)], found[(J.EU_GDPR, A.INDIVIDUALS)]
    assert not is_overdue(authority, at("2026-03-09T15:00:00"))
    assert is_overdue(authority, at("2026-03-09T15:00:01"))
    assert not is_overdue(individuals, at("2026-04-01T00:00:00"))
    assert is_past_target(individuals, at("2026-03-07T15:00:01"))


def test_overdue_refuses_a_naive_now() -> None:
    with pytest.raises(NaiveDatetime):
        is_overdue(clocks(J.EU_GDPR)[(J.EU_GDPR, A.AUTHORITY)], datetime(2026, 3, 10))


def test_late_notice_without_reasons_is_refused() -> None:
    authority = clocks(J.EU_GDPR)[(J.EU_GDPR, A.AUTHORITY)]
    sent = at("2026-03-10T09:00:00")
    assert is_late(authority, sent)
    with pytest.raises(MissingDelayReasons, match="reasons for the delay"):
        require_delay_reasons(authority, sent, None)
    with pytest.raises(MissingDelayReasons):
        require_delay_reasons(authority, sent, "   ")
    require_delay_reasons(authority, sent, "forensic imaging of the affected servers took 4 days")


def test_timely_notice_needs_no_reasons() -> None:
    authority = clocks(J.EU_GDPR)[(J.EU_GDPR, A.AUTHORITY)]
    require_delay_reasons(authority, at("2026-03-09T15:00:00"), None)
    assert not is_late(authority, at("2026-03-09T15:00:00"))


def test_plain_strings_from_the_web_layer_are_accepted() -> None:
    scope = BreachScope(frozenset({"eu-gdpr"}), role="processor", risk="high_risk")  # type: ignore[arg-type]
    assert scope.role is Role.PROCESSOR
    found = compute_deadlines(AWARE, scope)
    assert [(d.jurisdiction, d.audience) for d in found] == [(J.EU_GDPR, A.CONTROLLER)]


def test_unknown_jurisdiction_is_refused_clearly() -> None:
    with pytest.raises(InvalidClockInput, match="unknown jurisdiction 'mars'"):
        BreachScope(frozenset({"mars"}))  # type: ignore[arg-type]
