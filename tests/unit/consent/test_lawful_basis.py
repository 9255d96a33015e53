import pytest

from services.consent.domain import LawfulBasis, UnknownLawfulBasis, default_decision, objection_applies
from services.consent.domain.lawful_basis import parse_lawful_basis


def test_consent_without_record_is_not_allowed() -> None:
    answer = default_decision(LawfulBasis.CONSENT)
    assert answer.allowed is False
    assert answer.objected is False
    assert "Art. 6(1)(a)" in answer.reason
    assert "no consent is recorded" in answer.reason


@pytest.mark.parametrize(
    ("basis", "article"),
    [
        (LawfulBasis.CONTRACT, "6(1)(b)"),
        (LawfulBasis.LEGAL_OBLIGATION, "6(1)(c)"),
        (LawfulBasis.VITAL_INTEREST, "6(1)(d)"),
        (LawfulBasis.PUBLIC_TASK, "6(1)(e)"),
        (LawfulBasis.LEGITIMATE_INTEREST, "6(1)(f)"),
    ],
)
def test_other_bases_are_allowed_without_record(basis: LawfulBasis, article: str) -> None:
    answer = default_decision(basis)
    assert answer.allowed is True
    assert article in answer.reason


def test_legitimate_interest_is_allowed_unless_objected() -> None:
    assert default_decision("legitimate_interest").allowed is True
    objected = default_decision("legitimate_interest", objected=True)
    assert objected.allowed is False
    assert objected.objected is True
    assert "Art. 21(1)" in objected.reason


def test_public_task_objection_also_stops_processing() -> None:
    # Art. 21(1) covers Art. 6(1)(e) as well as (f).
    assert default_decision(LawfulBasis.PUBLIC_TASK, objected=True).allowed is False


@pytest.mark.parametrize("basis", [LawfulBasis.CONTRACT, LawfulBasis.LEGAL_OBLIGATION, LawfulBasis.VITAL_INTEREST])
def test_objection_does_not_reach_bases_outside_article_21(basis: LawfulBasis) -> None:
    answer = default_decision(basis, objected=True)
    assert answer.allowed is True
    assert answer.objected is False


def test_objection_to_direct_marketing_is_absolute() -> None:
    answer = default_decision(LawfulBasis.CONTRACT, objected=True, direct_marketing=True)
    assert answer.allowed is False
    assert "Art. 21(3)" in answer.reason


def test_objection_applies() -> None:
    assert objection_applies(LawfulBasis.LEGITIMATE_INTEREST)
    assert objection_applies(LawfulBasis.PUBLIC_TASK)
    assert objection_applies(LawfulBasis.CONSENT)
    assert not objection_applies(LawfulBasis.CONTRACT)
    assert objection_applies(LawfulBasis.CONTRACT, direct_marketing=True)


def test_parse_lawful_basis() -> None:
    assert parse_lawful_basis(" Legitimate_Interest ") is LawfulBasis.LEGITIMATE_INTEREST
    assert [b.value for b in LawfulBasis] == [
        "consent",
        "contract",
        "legal_obligation",
        "vital_interest",
        "public_task",
        "legitimate_interest",
    ]
    with pytest.raises(UnknownLawfulBasis, match=r"^lawful_basis: unknown lawful basis 'vibes'"):
        parse_lawful_basis("vibes")
