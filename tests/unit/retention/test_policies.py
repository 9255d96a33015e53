"""Retention policies: the default pack's cut-offs and due dates on worked dates, and validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.retention.domain import (
    DEFAULT_POLICY_PACK,
    AmbiguousPolicy,
    ClockStart,
    DataCategory,
    DomainError,
    InvalidPeriod,
    InvalidPolicy,
    NaiveDatetime,
    NoApplicablePolicy,
    RetentionAction,
    RetentionPolicy,
    UnknownAction,
    UnknownCategory,
    UnknownClockStart,
    archive_cutoff,
    build_policy,
    clock_started_at,
    cutoff,
    delete_cutoff,
    due_at,
    final_due_at,
    is_due,
    restart_clock,
    select_policy,
)
from shared.rules.durations import Duration


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


NOW = utc(2026, 11, 21)


def default(category: DataCategory) -> RetentionPolicy:
    return select_policy(DEFAULT_POLICY_PACK, category)


# --- the default pack ----------------------------------------------------------------------------


def test_default_pack_has_one_policy_per_category_each_with_a_legal_reference() -> None:
    assert {policy.category for policy in DEFAULT_POLICY_PACK} == set(DataCategory)
    assert len(DEFAULT_POLICY_PACK) == len(DataCategory)
    assert all(policy.legal_reference.strip() for policy in DEFAULT_POLICY_PACK)


@pytest.mark.parametrize(
    ("category", "period", "clock_start", "action"),
    [
        (DataCategory.PROSPECT, "P3Y", ClockStart.LAST_CONTACT, RetentionAction.DELETE),
        (DataCategory.CUSTOMER, "P1Y", ClockStart.LAST_ORDER, RetentionAction.ARCHIVE_THEN_DELETE),
        (DataCategory.CONSENT_BASED, "P3Y", ClockStart.CONSENT_GIVEN, RetentionAction.DELETE),
        (DataCategory.COOKIE, "P13M", ClockStart.TRACKER_SET, RetentionAction.DELETE),
        (DataCategory.CONNECTION_LOG, "P1Y", ClockStart.COLLECTION, RetentionAction.DELETE),
        (DataCategory.INVOICE, "P10Y", ClockStart.FINANCIAL_YEAR_END, RetentionAction.DELETE),
        (DataCategory.ACCOUNT, "P90D", ClockStart.ACCOUNT_CLOSED, RetentionAction.DELETE),
    ],
)
def test_default_pack_matches_the_privacy_policy(
    category: DataCategory, period: str, clock_start: ClockStart, action: RetentionAction
) -> None:
    policy = default(category)
    assert policy.period.isoformat() == period
    assert policy.clock_start is clock_start
    assert policy.action is action


def test_default_legal_references_cite_the_reference_texts() -> None:
    assert "CNIL" in default(DataCategory.PROSPECT).legal_reference
    assert "L110-4" in default(DataCategory.CUSTOMER).legal_reference
    assert "2013-378" in default(DataCategory.COOKIE).legal_reference
    assert "2011-219" in default(DataCategory.CONNECTION_LOG).legal_reference
    assert "L123-22" in default(DataCategory.INVOICE).legal_reference


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        (DataCategory.PROSPECT, utc(2023, 11, 21)),
        (DataCategory.CUSTOMER, utc(2025, 11, 21)),
        (DataCategory.CONSENT_BASED, utc(2023, 11, 21)),
        (DataCategory.COOKIE, utc(2025, 10, 21)),
        (DataCategory.CONNECTION_LOG, utc(2025, 11, 21)),
        (DataCategory.INVOICE, utc(2016, 11, 21)),
        (DataCategory.ACCOUNT, utc(2026, 8, 23)),
    ],
)
def test_cutoff_of_each_default_policy_on_2026_11_21(category: DataCategory, expected: datetime) -> None:
    assert cutoff(default(category), NOW) == expected


def test_customer_data_is_archived_after_one_year_and_deleted_five_years_later() -> None:
    policy = default(DataCategory.CUSTOMER)
    assert policy.archive_period == Duration(years=5)
    assert archive_cutoff(policy, NOW) == utc(2025, 11, 21)
    assert delete_cutoff(policy, NOW) == utc(2020, 11, 21)

    last_order = utc(2024, 3, 15, 9, 30)
    assert due_at(policy, last_order) == utc(2025, 3, 15, 9, 30)
    assert final_due_at(policy, last_order) == utc(2030, 3, 15, 9, 30)


def test_delete_cutoff_equals_cutoff_without_archive() -> None:
    for policy in DEFAULT_POLICY_PACK:
        if policy.action is not RetentionAction.ARCHIVE_THEN_DELETE:
            assert delete_cutoff(policy, NOW) == cutoff(policy, NOW)


def test_archive_cutoff_is_refused_for_a_policy_that_does_not_archive() -> None:
    with pytest.raises(InvalidPolicy, match="does not archive"):
        archive_cutoff(default(DataCategory.PROSPECT), NOW)


def test_cutoff_keeps_the_time_of_day() -> None:
    assert cutoff(default(DataCategory.PROSPECT), utc(2026, 11, 21, 14, 5)) == utc(2023, 11, 21, 14, 5)


# --- subject-level schedules ---------------------------------------------------------------------


def test_prospect_is_due_three_years_after_last_contact_and_exactly_on_time() -> None:
    policy = default(DataCategory.PROSPECT)
    contact = utc(2023, 11, 21)
    assert due_at(policy, contact) == NOW
    assert is_due(policy, contact, NOW)
    assert not is_due(policy, contact, NOW - timedelta(seconds=1))
    # The sweep agrees: a clock that started exactly at the cut-off is due.
    assert contact <= cutoff(policy, NOW)


def test_account_data_is_due_90_days_after_closure() -> None:
    assert due_at(default(DataCategory.ACCOUNT), utc(2026, 8, 23)) == NOW


def test_cookie_set_on_31_january_expires_at_the_end_of_february() -> None:
    assert due_at(default(DataCategory.COOKIE), utc(2025, 1, 31)) == utc(2026, 2, 28)


def test_consent_is_renewed_by_each_positive_answer() -> None:
    policy = default(DataCategory.CONSENT_BASED)
    recorded = restart_clock(policy, None, ClockStart.CONSENT_GIVEN, utc(2022, 5, 1))
    assert recorded == utc(2022, 5, 1)
    recorded = restart_clock(policy, recorded, ClockStart.CONSENT_GIVEN, utc(2024, 6, 10))
    assert recorded == utc(2024, 6, 10)
    assert due_at(policy, recorded) == utc(2027, 6, 10)
    # A late-delivered older answer never shortens the period.
    assert restart_clock(policy, recorded, ClockStart.CONSENT_GIVEN, utc(2023, 1, 1)) == utc(2024, 6, 10)
    # Other events leave the clock alone.
    assert restart_clock(policy, recorded, ClockStart.LAST_CONTACT, utc(2026, 1, 1)) == utc(2024, 6, 10)


def test_collection_does_not_restart_the_clock() -> None:
    policy = default(DataCategory.CONNECTION_LOG)
    assert restart_clock(policy, utc(2026, 1, 1), ClockStart.COLLECTION, utc(2026, 6, 1)) == utc(2026, 1, 1)


def test_customer_clock_waits_for_the_end_of_the_contract() -> None:
    policy = default(DataCategory.CUSTOMER)
    last_order = utc(2021, 4, 2)
    assert clock_started_at(policy, {ClockStart.LAST_ORDER: last_order}) is None
    events = {ClockStart.LAST_ORDER: last_order, ClockStart.CONTRACT_END: utc(2025, 9, 30)}
    assert clock_started_at(policy, events) == utc(2025, 9, 30)
    events = {ClockStart.LAST_ORDER: utc(2025, 10, 3), ClockStart.CONTRACT_END: utc(2025, 9, 30)}
    assert clock_started_at(policy, events) == utc(2025, 10, 3)
    assert clock_started_at(default(DataCategory.PROSPECT), {}) is None


# --- leap days and month ends --------------------------------------------------------------------


def test_leap_day_consent_expires_on_28_february() -> None:
    assert due_at(default(DataCategory.CONSENT_BASED), utc(2024, 2, 29)) == utc(2027, 2, 28)


def test_leap_day_last_order_archive_and_delete_dates() -> None:
    policy = default(DataCategory.CUSTOMER)
    assert due_at(policy, utc(2024, 2, 29)) == utc(2025, 2, 28)
    assert final_due_at(policy, utc(2024, 2, 29)) == utc(2030, 2, 28)


def test_cutoff_on_a_leap_day() -> None:
    policy = default(DataCategory.CONNECTION_LOG)
    assert cutoff(policy, utc(2028, 2, 29)) == utc(2027, 2, 28)
    assert cutoff(default(DataCategory.ACCOUNT), utc(2028, 3, 1)) == utc(2027, 12, 2)


def test_sweep_catches_a_leap_day_record_the_day_after_its_due_date_never_before() -> None:
    policy = default(DataCategory.CONNECTION_LOG)
    logged = utc(2024, 2, 29)
    assert due_at(policy, logged) == utc(2025, 2, 28)
    assert not logged <= cutoff(policy, utc(2025, 2, 28))
    assert logged <= cutoff(policy, utc(2025, 3, 1))


def test_a_sweep_never_acts_before_the_due_date() -> None:
    # Around each record's due date, through month ends and a leap year: the cut-off must never
    # pick a record early, and must pick it within three days.
    starts = [utc(2024, 1, 27) + timedelta(hours=7 * step) for step in range(0, 150)]
    starts += [utc(2024, 4, 28) + timedelta(hours=7 * step) for step in range(0, 20)]
    offsets = [timedelta(hours=5 * step) for step in range(-20, 20)]
    for policy in DEFAULT_POLICY_PACK:
        for start in starts:
            due, final_due = due_at(policy, start), final_due_at(policy, start)
            for offset in offsets:
                now = due + offset
                assert (start <= cutoff(policy, now)) <= (due <= now), (policy.category, start, now)
                now = final_due + offset
                assert (start <= delete_cutoff(policy, now)) <= (final_due <= now), (policy.category, start, now)
            assert start <= cutoff(policy, due + timedelta(days=3))
            assert start <= delete_cutoff(policy, final_due + timedelta(days=3))


# --- choosing a policy ---------------------------------------------------------------------------


CRM_CUSTOMERS = build_policy(
    "customer", "P2Y", "last_order", "delete", "internal rule for the CRM", system="crm", version=1
)
CRM_CUSTOMERS_V2 = build_policy(
    "customer", "P18M", "last_order", "delete", "internal rule for the CRM", system="crm", version=2
)
MARKETING_CUSTOMERS = build_policy("customer", "P3Y", "last_contact", "delete", "CNIL référentiel", purpose="marketing")
CRM_MARKETING = build_policy("customer", "P6M", "last_contact", "delete", "internal", system="crm", purpose="marketing")


def test_select_falls_back_to_the_category_default() -> None:
    pack = (*DEFAULT_POLICY_PACK, CRM_CUSTOMERS)
    assert select_policy(pack, "customer", system="billing") is default(DataCategory.CUSTOMER)


def test_select_prefers_the_system_specific_policy_and_its_latest_version() -> None:
    pack = (*DEFAULT_POLICY_PACK, CRM_CUSTOMERS, CRM_CUSTOMERS_V2)
    assert select_policy(pack, "customer", system="crm") is CRM_CUSTOMERS_V2


def test_select_prefers_system_and_purpose_over_either_alone() -> None:
    pack = (*DEFAULT_POLICY_PACK, CRM_CUSTOMERS, MARKETING_CUSTOMERS, CRM_MARKETING)
    assert select_policy(pack, DataCategory.CUSTOMER, system="crm", purpose="marketing") is CRM_MARKETING
    assert select_policy(pack, DataCategory.CUSTOMER, system="shop", purpose="marketing") is MARKETING_CUSTOMERS


def test_select_refuses_to_guess_between_a_system_rule_and_a_purpose_rule() -> None:
    pack = (*DEFAULT_POLICY_PACK, CRM_CUSTOMERS, MARKETING_CUSTOMERS)
    with pytest.raises(AmbiguousPolicy, match="exact system and purpose"):
        select_policy(pack, "customer", system="crm", purpose="marketing")


def test_select_without_any_policy_for_the_category() -> None:
    with pytest.raises(NoApplicablePolicy, match="'invoice'"):
        select_policy([CRM_CUSTOMERS], "invoice")


def test_select_rejects_an_unknown_category() -> None:
    with pytest.raises(UnknownCategory, match="expected one of"):
        select_policy(DEFAULT_POLICY_PACK, "pets")


# --- validation ----------------------------------------------------------------------------------


def test_build_accepts_text_in_any_case() -> None:
    policy = build_policy("Prospect", "p3y", "LAST_CONTACT", "Delete", "CNIL")
    assert policy.category is DataCategory.PROSPECT
    assert policy.period == Duration(years=3)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"category": "pets"}, UnknownCategory, "unknown data category 'pets'"),
        ({"action": "shred"}, UnknownAction, "unknown retention action 'shred'"),
        ({"clock_start": "birthday"}, UnknownClockStart, "unknown clock-start event 'birthday'"),
        ({"period": "3 years"}, InvalidPeriod, "not an ISO 8601 duration"),
        ({"period": "-P1Y"}, InvalidPeriod, "not an ISO 8601 duration"),
        ({"period": "P0D"}, InvalidPeriod, "zero duration"),
        ({"action": "archive_then_delete"}, InvalidPolicy, "needs an archive period"),
        ({"archive_period": "P5Y"}, InvalidPolicy, "only applies to archive_then_delete"),
        ({"action": "archive_then_delete", "archive_period": "P0Y"}, InvalidPeriod, "archive period"),
        ({"legal_reference": "  "}, InvalidPolicy, "legal reference is required"),
        ({"system": ""}, InvalidPolicy, "system must be omitted or non-blank"),
        ({"version": 0}, InvalidPolicy, "version must be 1 or more"),
    ],
)
def test_build_rejects_bad_policies(kwargs: dict[str, object], error: type[DomainError], message: str) -> None:
    fields: dict[str, object] = {
        "category": "prospect",
        "period": "P3Y",
        "clock_start": "last_contact",
        "action": "delete",
        "legal_reference": "CNIL",
    }
    fields.update(kwargs)
    with pytest.raises(error, match=message):
        build_policy(**fields)  # type: ignore[arg-type]


def test_domain_errors_are_value_errors() -> None:
    with pytest.raises(ValueError):
        build_policy("pets", "P1Y", "collection", "delete", "x")


def test_negative_duration_built_directly_is_refused() -> None:
    with pytest.raises(InvalidPeriod, match="negative"):
        RetentionPolicy(
            category=DataCategory.PROSPECT,
            period=Duration(years=-1),
            clock_start=ClockStart.LAST_CONTACT,
            action=RetentionAction.DELETE,
            legal_reference="CNIL",
        )


def test_naive_datetimes_are_refused() -> None:
    policy = default(DataCategory.PROSPECT)
    with pytest.raises(NaiveDatetime, match="timezone-aware"):
        cutoff(policy, datetime(2026, 11, 21))
    with pytest.raises(NaiveDatetime):
        due_at(policy, datetime(2023, 11, 21))


def test_texts_given_to_the_constructor_become_enum_members() -> None:
    policy = RetentionPolicy(
        category="cookie",  # type: ignore[arg-type]
        period=Duration(months=13),
        clock_start="tracker_set",  # type: ignore[arg-type]
        action="delete",  # type: ignore[arg-type]
        legal_reference="CNIL",
    )
    assert policy.category is DataCategory.COOKIE
    assert select_policy([policy], "cookie") is policy
