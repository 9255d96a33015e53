"""Telling the people affected (GDPR Art. 34): language, the customer's approval, approval links, completion."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.breach.domain.deliveries import DeliveryStatus, all_final, count_by_status
from services.breach.domain.errors import ApprovalDeclined, ApprovalRequired
from services.breach.domain.individuals import (
    ApprovalLink,
    ApprovalStatus,
    approval_required,
    approval_token,
    pick_language,
    read_approval_token,
    require_approval,
)
from services.breach.domain.notices import NoticeKind

SECRET = "s3cret-for-tests-only-0123456789"
LINK = ApprovalLink("acme", uuid.UUID("0193a0c4-7d0e-7c4e-9b1a-3f5d2e8c1a20"), datetime(2026, 3, 5, 9, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("locale", "default", "expected"),
    [
        ("fr", None, "fr"),
        ("fr-CA", "en", "fr"),  # the language of a regional locale
        ("FR_be", None, "fr"),
        ("en-GB", "fr", "en"),
        ("de", "fr", "fr"),  # not written in German: the tenant's language
        ("de", "it", "en"),  # neither: English
        (None, "fr", "fr"),
        (None, None, "en"),
        ("", "", "en"),
    ],
)
def test_each_person_reads_their_language_else_the_tenants_else_english(
    locale: str | None, default: str | None, expected: str
) -> None:
    assert pick_language(locale, default) == expected


def test_only_a_processors_notice_to_individuals_needs_the_customers_approval() -> None:
    assert approval_required("processor", NoticeKind.INDIVIDUALS)
    assert approval_required("processor", "individuals")
    # As controller, the DPO's own send is the decision.
    assert not approval_required("controller", NoticeKind.INDIVIDUALS)
    # Telling the authority or the customer itself needs nobody's approval.
    assert not approval_required("processor", NoticeKind.CONTROLLER)
    assert not approval_required("processor", NoticeKind.AUTHORITY)


def test_a_processor_sends_only_what_the_customer_approved() -> None:
    for status in (None, ApprovalStatus.PENDING, "pending"):
        with pytest.raises(ApprovalRequired, match="approval-request") as refused:
            require_approval("processor", "individuals", status)
        assert refused.value.status == 409
    with pytest.raises(ApprovalDeclined) as declined:
        require_approval("processor", "individuals", ApprovalStatus.DECLINED)
    assert declined.value.status == 409
    require_approval("processor", "individuals", ApprovalStatus.APPROVED)
    require_approval("controller", "individuals", None)
    require_approval("processor", "authority", None)


def test_an_approval_link_names_its_tenant_approval_and_expiry_under_a_signature() -> None:
    token = approval_token(SECRET, LINK)
    assert read_approval_token(SECRET, token) == LINK
    assert "acme" not in token.split(".")[1]
    assert read_approval_token("another-secret-entirely-0123456789", token) is None
    payload, signature = token.split(".")
    forged = ApprovalLink("globex", LINK.approval_id, LINK.expires_at)
    forged_payload = approval_token("guess", forged).split(".")[0]
    assert read_approval_token(SECRET, f"{forged_payload}.{signature}") is None  # another tenant, same signature
    assert read_approval_token(SECRET, f"{payload}.{signature[:-2]}") is None
    for junk in ("", ".", "abc", "abc.def", "%%%.%%%", "a" * 600):
        assert read_approval_token(SECRET, junk) is None


def test_a_notice_is_complete_once_every_delivery_ended() -> None:
    assert not all_final([])
    assert not all_final(["delivered", "requested"])
    assert not all_final(["sent", "unreachable"])
    assert all_final(["delivered", "failed", "unreachable", DeliveryStatus.SUBMITTED])
    counts = count_by_status(["delivered", "delivered", "unreachable"])
    assert counts["delivered"] == 2 and counts["unreachable"] == 1 and counts["requested"] == 0
    assert set(counts) == {s.value for s in DeliveryStatus}
