from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.consent.domain import (
    CheckReason,
    CheckResult,
    ConsentRecord,
    Decision,
    InvalidConsentRecord,
    InvalidPurposeRules,
    InvalidTimestamp,
    LawfulBasis,
    PurposeRules,
    UnknownLawfulBasis,
    consent_expiry,
    decision_at,
    evaluate,
    gpc_covered_purposes,
    gpc_denials,
    gpc_signal,
    needs_renewal,
)
from shared.rules.durations import parse_duration

NEWSLETTER = PurposeRules.parse("newsletter", validity="P3Y")
JAN = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)
MAR = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
JUN = datetime(2024, 6, 1, 9, 0, tzinfo=UTC)


def record(
    decision: str, at: datetime, purpose: str = "newsletter", notice_version: int | None = None
) -> ConsentRecord:
    return ConsentRecord(purpose=purpose, decision=Decision(decision), decided_at=at, notice_version=notice_version)


def decided(history: list[ConsentRecord], at: datetime, purpose: str | None = None) -> Decision:
    found = decision_at(history, at, purpose=purpose)
    assert found is not None
    return found.decision


def check(
    records: ConsentRecord | list[ConsentRecord] | None,
    rules: PurposeRules = NEWSLETTER,
    now: datetime = JUN,
    *,
    restricted: bool = False,
    objected: bool = False,
) -> CheckResult:
    return evaluate(records, rules, now, restricted=restricted, objected=objected)


class TestExpiry:
    def test_three_years_from_leap_day_ends_on_28_february(self) -> None:
        given = datetime(2024, 2, 29, 10, 30, tzinfo=UTC)
        assert consent_expiry(given, "P3Y") == datetime(2027, 2, 28, 10, 30, tzinfo=UTC)

    def test_thirteen_months_clamps_to_month_end(self) -> None:
        assert consent_expiry(datetime(2024, 1, 31, tzinfo=UTC), parse_duration("P13M")) == datetime(
            2025, 2, 28, tzinfo=UTC
        )

    def test_no_validity_means_no_expiry(self) -> None:
        assert consent_expiry(JAN, None) is None

    def test_rejects_bad_duration_and_naive_time(self) -> None:
        with pytest.raises(InvalidPurposeRules, match=r"^validity: "):
            consent_expiry(JAN, "three years")
        with pytest.raises(InvalidTimestamp):
            consent_expiry(datetime(2024, 1, 1), "P1Y")


class TestDecisionAt:
    history = [record("granted", JAN), record("withdrawn", MAR)]

    def test_before_the_withdrawal_the_grant_holds(self) -> None:
        found = decision_at(self.history, MAR - timedelta(seconds=1))
        assert found is not None
        assert found.decision is Decision.GRANTED

    def test_at_and_after_the_withdrawal_it_is_withdrawn(self) -> None:
        assert decided(self.history, MAR) is Decision.WITHDRAWN
        assert decided(self.history, JUN) is Decision.WITHDRAWN

    def test_before_any_record_there_is_none(self) -> None:
        assert decision_at(self.history, JAN - timedelta(days=1)) is None

    def test_input_order_does_not_matter(self) -> None:
        assert decided(list(reversed(self.history)), JUN) is Decision.WITHDRAWN

    def test_same_instant_refusal_wins(self) -> None:
        for history in (
            [record("granted", MAR), record("withdrawn", MAR)],
            [record("withdrawn", MAR), record("granted", MAR)],
        ):
            assert decided(history, MAR) is Decision.WITHDRAWN

    def test_filters_by_purpose(self) -> None:
        history = [record("granted", JAN), record("withdrawn", MAR, purpose="ads")]
        assert decided(history, JUN, "newsletter") is Decision.GRANTED

    def test_rejects_naive_time(self) -> None:
        with pytest.raises(InvalidTimestamp, match=r"^at: "):
            decision_at(self.history, datetime(2024, 1, 1))


class TestEvaluateConsent:
    def test_no_record_is_not_consent(self) -> None:
        empty: list[ConsentRecord] = []
        for records in (None, empty):
            result = check(records)
            assert (result.allowed, result.reason) == (False, CheckReason.NO_RECORD_DEFAULT)
            assert result.decided_at is None
            assert result.expires_at is None

    def test_grant_is_allowed_until_expiry(self) -> None:
        result = check([record("granted", JAN)])
        assert result.allowed is True
        assert result.reason is CheckReason.GRANTED
        assert result.decided_at == JAN
        assert result.expires_at == datetime(2027, 1, 10, 9, 0, tzinfo=UTC)

    def test_accepts_a_single_latest_record(self) -> None:
        assert check(record("granted", JAN)).allowed is True

    def test_withdrawal_beats_older_grant(self) -> None:
        result = check([record("granted", JAN), record("withdrawn", MAR)])
        assert (result.allowed, result.reason, result.decided_at) == (False, CheckReason.WITHDRAWN, MAR)

    def test_new_grant_after_withdrawal_is_allowed_again(self) -> None:
        assert check([record("granted", JAN), record("withdrawn", MAR), record("granted", JUN)]).allowed is True

    def test_denied(self) -> None:
        assert check([record("denied", JAN)]).reason is CheckReason.DENIED

    def test_records_after_now_are_ignored(self) -> None:
        result = check([record("granted", JAN), record("withdrawn", JUN)], now=MAR)
        assert result.allowed is True

    def test_other_purposes_do_not_count(self) -> None:
        assert check([record("granted", JAN, purpose="ads")]).reason is CheckReason.NO_RECORD_DEFAULT

    def test_expires_exactly_at_the_end_of_validity(self) -> None:
        end = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
        assert check([record("granted", JAN)], now=end - timedelta(seconds=1)).allowed is True
        expired = check([record("granted", JAN)], now=end)
        assert (expired.allowed, expired.reason, expired.expires_at) == (False, CheckReason.EXPIRED, end)

    def test_each_positive_answer_renews_the_validity(self) -> None:
        renewed = datetime(2026, 12, 1, tzinfo=UTC)
        result = check([record("granted", JAN), record("granted", renewed)], now=datetime(2027, 6, 1, tzinfo=UTC))
        assert result.allowed is True
        assert result.expires_at == datetime(2029, 12, 1, tzinfo=UTC)

    def test_purpose_without_validity_never_expires(self) -> None:
        rules = PurposeRules.parse("newsletter")
        result = check([record("granted", JAN)], rules=rules, now=datetime(2099, 1, 1, tzinfo=UTC))
        assert result.allowed is True
        assert result.expires_at is None

    def test_now_in_another_timezone_is_read_as_utc(self) -> None:
        paris = timezone(timedelta(hours=2))
        assert check([record("granted", JAN)], now=datetime(2024, 6, 1, 11, 0, tzinfo=paris)).allowed is True

    def test_rejects_naive_now(self) -> None:
        with pytest.raises(InvalidTimestamp, match=r"^now: "):
            check([], now=datetime(2024, 6, 1))


class TestRenewal:
    rules = PurposeRules.parse("newsletter", validity="P3Y", renewal_required_since=3)

    def test_grant_under_older_notice_needs_renewal(self) -> None:
        result = check([record("granted", JAN, notice_version=2)], rules=self.rules)
        assert (result.allowed, result.reason) == (False, CheckReason.NEEDS_RENEWAL)
        assert "notice version 2" in result.detail

    def test_grant_under_current_notice_is_allowed(self) -> None:
        assert check([record("granted", JAN, notice_version=3)], rules=self.rules).allowed is True
        assert check([record("granted", JAN, notice_version=4)], rules=self.rules).allowed is True

    def test_grant_without_notice_version_needs_renewal(self) -> None:
        assert needs_renewal(record("granted", JAN), self.rules) is True

    def test_refusal_under_older_notice_stays_a_refusal(self) -> None:
        assert check([record("denied", JAN, notice_version=1)], rules=self.rules).reason is CheckReason.DENIED
        assert needs_renewal(record("denied", JAN, notice_version=1), self.rules) is False

    def test_expired_is_reported_before_renewal(self) -> None:
        rules = PurposeRules.parse("newsletter", validity="P1M", renewal_required_since=3)
        assert check([record("granted", JAN, notice_version=1)], rules=rules).reason is CheckReason.EXPIRED


class TestRestrictionAndObjection:
    def test_restriction_beats_a_valid_grant(self) -> None:
        result = check([record("granted", JAN)], restricted=True)
        assert (result.allowed, result.reason) == (False, CheckReason.RESTRICTED)
        assert "Art. 18" in result.detail

    def test_restriction_beats_a_contract_basis(self) -> None:
        rules = PurposeRules.parse("delivery", lawful_basis="contract")
        assert check([], rules=rules, restricted=True).reason is CheckReason.RESTRICTED

    def test_legitimate_interest_allowed_unless_objected(self) -> None:
        rules = PurposeRules.parse("fraud_scoring", lawful_basis="legitimate_interest")
        allowed = check([], rules=rules)
        assert (allowed.allowed, allowed.reason) == (True, CheckReason.NO_RECORD_DEFAULT)
        objected = check([], rules=rules, objected=True)
        assert (objected.allowed, objected.reason) == (False, CheckReason.OBJECTED)

    def test_recorded_refusal_of_a_legitimate_interest_purpose_is_an_objection(self) -> None:
        rules = PurposeRules.parse("analytics", lawful_basis="legitimate_interest")
        result = check([record("withdrawn", MAR, purpose="analytics")], rules=rules)
        assert (result.allowed, result.reason, result.decided_at) == (False, CheckReason.OBJECTED, MAR)

    def test_contract_ignores_objection_and_records(self) -> None:
        rules = PurposeRules.parse("delivery", lawful_basis="contract")
        result = check([record("denied", JAN, purpose="delivery")], rules=rules, objected=True)
        assert (result.allowed, result.reason) == (True, CheckReason.NO_RECORD_DEFAULT)

    def test_direct_marketing_objection_is_absolute(self) -> None:
        rules = PurposeRules.parse("offers", lawful_basis="contract", direct_marketing=True)
        assert check([], rules=rules, objected=True).reason is CheckReason.OBJECTED

    def test_objection_to_consented_purpose_stops_it(self) -> None:
        result = check([record("granted", JAN)], objected=True)
        assert (result.allowed, result.reason) == (False, CheckReason.OBJECTED)


class TestRulesAndRecords:
    def test_parse_builds_typed_rules(self) -> None:
        rules = PurposeRules.parse("ads", lawful_basis="Consent", validity="P13M", gpc_covered=True)
        assert rules.lawful_basis is LawfulBasis.CONSENT
        assert rules.validity == parse_duration("P13M")

    def test_constructor_coerces_basis_text(self) -> None:
        assert PurposeRules("x", lawful_basis="contract").lawful_basis is LawfulBasis.CONTRACT  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"validity": "3 years"}, "validity"),
            ({"validity": "P0D"}, "validity"),
            ({"renewal_required_since": 0}, "renewal_required_since"),
            ({"renewal_required_since": True}, "renewal_required_since"),
        ],
    )
    def test_rejects_bad_configuration(self, kwargs: dict[str, object], field: str) -> None:
        with pytest.raises(InvalidPurposeRules) as caught:
            PurposeRules.parse("ads", **kwargs)  # type: ignore[arg-type]
        assert caught.value.field == field

    def test_rejects_empty_purpose_and_unknown_basis(self) -> None:
        with pytest.raises(InvalidPurposeRules, match=r"^purpose: "):
            PurposeRules.parse(" ")
        with pytest.raises(UnknownLawfulBasis):
            PurposeRules.parse("ads", lawful_basis="because")

    def test_record_coerces_decision_text_and_converts_to_utc(self) -> None:
        paris = timezone(timedelta(hours=1))
        made = ConsentRecord("ads", "granted", datetime(2024, 1, 1, 10, tzinfo=paris))  # type: ignore[arg-type]
        assert made.decision is Decision.GRANTED
        assert made.decided_at == datetime(2024, 1, 1, 9, tzinfo=UTC)
        assert made.decided_at.tzinfo is UTC

    @pytest.mark.parametrize(
        ("kwargs", "error"),
        [
            ({"decision": "maybe"}, InvalidConsentRecord),
            ({"purpose": ""}, InvalidConsentRecord),
            ({"notice_version": 0}, InvalidConsentRecord),
            ({"decided_at": datetime(2024, 1, 1)}, InvalidTimestamp),
        ],
    )
    def test_rejects_bad_records(self, kwargs: dict[str, object], error: type[Exception]) -> None:
        fields: dict[str, object] = {"purpose": "ads", "decision": "granted", "decided_at": JAN, **kwargs}
        with pytest.raises(error):
            ConsentRecord(**fields)  # type: ignore[arg-type]


class TestGlobalPrivacyControl:
    ads = PurposeRules.parse("ads", validity="P13M", gpc_covered=True)
    sale = PurposeRules.parse("data_sale", gpc_covered=True)
    newsletter = PurposeRules.parse("newsletter", validity="P3Y")

    @pytest.mark.parametrize(
        ("value", "expected"), [("1", True), (" 1 ", True), ("0", False), ("", False), (None, False), ("true", False)]
    )
    def test_signal(self, value: str | None, expected: bool) -> None:
        assert gpc_signal(value) is expected

    def test_covered_purposes(self) -> None:
        assert gpc_covered_purposes([self.ads, self.newsletter, self.sale]) == [self.ads, self.sale]

    def test_signal_denies_covered_purposes_only(self) -> None:
        denials = gpc_denials("1", [self.ads, self.newsletter, self.sale], JUN)
        assert [(d.purpose, d.decision, d.decided_at, d.source) for d in denials] == [
            ("ads", Decision.DENIED, JUN, "gpc"),
            ("data_sale", Decision.DENIED, JUN, "gpc"),
        ]

    @pytest.mark.parametrize("value", [None, "0", ""])
    def test_no_signal_means_nothing_not_consent(self, value: str | None) -> None:
        assert gpc_denials(value, [self.ads, self.sale], JUN) == []
        assert check([], rules=self.ads).allowed is False

    def test_gpc_denial_ends_an_earlier_grant_for_covered_purpose(self) -> None:
        history = [record("granted", JAN, purpose="ads"), record("granted", JAN)]
        history += gpc_denials("1", [self.ads, self.newsletter], MAR)
        assert check(history, rules=self.ads).reason is CheckReason.DENIED
        assert check(history, rules=self.newsletter).allowed is True
