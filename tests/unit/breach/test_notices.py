"""Breach notice drafts: required contents, staging and plain-text rendering."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from services.breach.domain import (
    Audience,
    BreachFacts,
    BreachScope,
    ContactPoint,
    DomainError,
    IncompleteNotice,
    Jurisdiction,
    MissingDelayReasons,
    MissingToFollowReason,
    NaiveDatetime,
    NoticeDraft,
    NoticeField,
    NoticeKind,
    NoticeSection,
    NoticeStage,
    build_authority_notice,
    build_controller_notice,
    build_individuals_notice,
    check_ready_to_send,
    compute_deadlines,
    render_text,
    validate_notice,
)

AWARE = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
DPO = ContactPoint("Jane Roe", email="dpo@example.com", phone="+33 1 23 45 67 89")

COMPLETE = BreachFacts(
    reference="BR-2026-0042",
    aware_at=AWARE,
    nature="Unauthorised access to the customer database through a stolen API key (confidentiality breach).",
    plain_summary="Someone used a stolen password to look at our customer list.",
    data_subject_categories=("customers", "prospects"),
    approximate_data_subjects=1200,
    record_categories=("names", "e-mail addresses", "order history"),
    approximate_records=5400,
    contact=DPO,
    likely_consequences="Targeted phishing e-mails using order details.",
    measures_taken=("API key revoked", "access logs preserved"),
    measures_proposed=("rotate every API key by 13 March",),
    advice=("Be wary of e-mails asking you to confirm an order.",),
)
EARLY = BreachFacts(
    reference="BR-2026-0042",
    aware_at=AWARE,
    nature="Unauthorised access to the customer database through a stolen API key.",
    contact=DPO,
    measures_taken=("API key revoked",),
)
STILL_UNKNOWN: dict[NoticeField, str] = {
    NoticeField.SUBJECT_CATEGORIES: "log analysis in progress",
    NoticeField.SUBJECT_COUNT: "log analysis in progress",
    NoticeField.RECORD_CATEGORIES: "log analysis in progress",
    NoticeField.RECORD_COUNT: "log analysis in progress",
    NoticeField.LIKELY_CONSEQUENCES: "depends on which tables were read",
}


def part(draft: NoticeDraft, name: NoticeField) -> NoticeSection:
    section = draft.section(name)
    assert section is not None, f"no {name} section"
    return section


def test_complete_authority_notice_carries_article_33_3_contents() -> None:
    draft = build_authority_notice(COMPLETE, recipient="CNIL", stage=NoticeStage.FINAL)
    assert draft.kind is NoticeKind.AUTHORITY
    assert draft.to_follow == ()
    assert part(draft, NoticeField.SUBJECT_COUNT).text == "about 1,200 people"
    assert part(draft, NoticeField.RECORD_COUNT).text == "about 5,400 records"
    assert (
        part(draft, NoticeField.CONTACT_POINT).text
        == "Jane Roe (Data Protection Officer) — dpo@example.com, +33 1 23 45 67 89"
    )
    assert part(draft, NoticeField.MEASURES).text == (
        "- Taken: API key revoked\n- Taken: access logs preserved\n- Proposed: rotate every API key by 13 March"
    )


def test_authority_notice_renders_as_plain_text() -> None:
    text = render_text(build_authority_notice(COMPLETE, recipient="CNIL", stage=NoticeStage.FINAL))
    assert text.startswith("Personal data breach notification — final notice\nTo: CNIL\nReference: BR-2026-0042\n")
    assert "Became aware: 2026-03-06 15:00 UTC" in text
    for heading in (
        "(a) Nature of the breach",
        "(b) Data protection officer",
        "(c) Likely consequences",
        "(d) Measures",
    ):
        assert heading in text
    assert "  about 1,200 people" in text


def test_initial_notice_may_leave_fields_to_follow_with_a_reason() -> None:
    draft = build_authority_notice(EARLY, recipient="CNIL", to_follow=STILL_UNKNOWN)
    assert set(draft.to_follow) == set(STILL_UNKNOWN)
    assert part(draft, NoticeField.SUBJECT_COUNT).to_follow == "log analysis in progress"
    assert "To follow: log analysis in progress" in render_text(draft)


def test_initial_notice_with_an_unexplained_gap_is_refused() -> None:
    reasons = dict(STILL_UNKNOWN)
    del reasons[NoticeField.RECORD_COUNT]
    with pytest.raises(MissingToFollowReason, match="approximate_records"):
        build_authority_notice(EARLY, recipient="CNIL", to_follow=reasons)


def test_blank_to_follow_reason_counts_as_missing() -> None:
    with pytest.raises(MissingToFollowReason):
        build_authority_notice(EARLY, recipient="CNIL", to_follow={**STILL_UNKNOWN, NoticeField.RECORD_COUNT: "  "})


def test_even_an_initial_notice_says_what_happened_and_whom_to_contact() -> None:
    no_contact = dataclasses.replace(EARLY, contact=None)
    with pytest.raises(IncompleteNotice, match="contact_point") as refused:
        build_authority_notice(
            no_contact, recipient="CNIL", to_follow={**STILL_UNKNOWN, NoticeField.CONTACT_POINT: "not chosen"}
        )
    assert refused.value.missing == ("contact_point",)


def test_final_notice_must_cover_every_field() -> None:
    with pytest.raises(IncompleteNotice, match="final notice") as refused:
        build_authority_notice(EARLY, recipient="CNIL", stage=NoticeStage.FINAL, to_follow=STILL_UNKNOWN)
    assert set(refused.value.missing) == {field.value for field in STILL_UNKNOWN}


def test_follow_up_references_the_earlier_notice() -> None:
    draft = build_authority_notice(
        COMPLETE, recipient="CNIL", stage=NoticeStage.FOLLOW_UP, to_follow=STILL_UNKNOWN, previous_reference="CNIL-123"
    )
    assert draft.to_follow == ()  # known contents win over stale "to follow" notes
    text = render_text(draft)
    assert "follow-up notice" in text
    assert "Follows: CNIL-123" in text


def test_controller_notice_from_a_processor() -> None:
    draft = build_controller_notice(COMPLETE, controller="Acme Retail SA", processor="privops Hosting", stage="final")
    assert draft.kind is NoticeKind.CONTROLLER
    text = render_text(draft)
    assert "To: Acme Retail SA" in text
    assert "From: privops Hosting (processor)" in text
    assert "(a) Categories of personal data records" in text


def test_controller_notice_may_be_staged() -> None:
    draft = build_controller_notice(EARLY, controller="Acme", processor="privops", to_follow=STILL_UNKNOWN)
    assert draft.stage is NoticeStage.INITIAL
    assert NoticeField.SUBJECT_COUNT in draft.to_follow


def test_individuals_notice_uses_plain_language() -> None:
    draft = build_individuals_notice(COMPLETE)
    text = render_text(draft)
    assert text.startswith("Important: about your personal data (reference BR-2026-0042)")
    assert "What happened\n  Someone used a stolen password to look at our customer list." in text
    assert "What you can do\n  - Be wary of e-mails" in text
    assert "Who to contact" in text
    assert "Art." not in text
    assert "Taken:" not in text
    assert [section.field for section in draft.sections] == [
        NoticeField.NATURE,
        NoticeField.LIKELY_CONSEQUENCES,
        NoticeField.MEASURES,
        NoticeField.ADVICE,
        NoticeField.CONTACT_POINT,
    ]


def test_individuals_notice_falls_back_to_the_nature_text() -> None:
    draft = build_individuals_notice(dataclasses.replace(COMPLETE, plain_summary=None, advice=()))
    assert part(draft, NoticeField.NATURE).text == COMPLETE.nature
    # What the person can do is never left out: at the least, ask the contact point.
    assert part(draft, NoticeField.ADVICE).text == "- Contact us with any question, using the details below."


def test_individuals_notice_in_french_is_plain_french() -> None:
    draft = build_individuals_notice(COMPLETE, language="fr", on_behalf_of="Globex SA")
    text = render_text(draft)
    assert text.startswith("Important : à propos de vos données personnelles (référence BR-2026-0042)")
    assert "Nous vous adressons ce message au nom de Globex SA, responsable du traitement de vos données." in text
    headings = [section.heading for section in draft.sections]
    assert headings == [
        "Ce qui s'est passé",
        "Ce que cela peut signifier pour vous",
        "Ce que nous faisons",
        "Ce que vous pouvez faire",
        "Qui contacter",
    ]
    assert part(draft, NoticeField.CONTACT_POINT).text == (
        "Jane Roe (Délégué à la protection des données) — dpo@example.com, +33 1 23 45 67 89"
    )
    assert "What" not in text and "Art." not in text
    no_advice = build_individuals_notice(dataclasses.replace(COMPLETE, advice=()), language="fr")
    ask = "- Contactez-nous pour toute question, avec les coordonnées ci-dessous."
    assert part(no_advice, NoticeField.ADVICE).text == ask


def test_individuals_notice_in_english_names_the_controller_it_is_sent_for() -> None:
    text = render_text(build_individuals_notice(COMPLETE, on_behalf_of="Globex SA"))
    assert "We send this message on behalf of Globex SA, who is responsible for your data." in text
    assert "security incident that involved your personal data" in text
    with pytest.raises(DomainError, match="unknown notice language 'de'"):
        build_individuals_notice(COMPLETE, language="de")


def test_individuals_notice_cannot_leave_consequences_to_follow() -> None:
    with pytest.raises(IncompleteNotice, match=r"Art\. 34"):
        build_individuals_notice(dataclasses.replace(COMPLETE, likely_consequences=None))


def test_late_notice_needs_reasons_when_sent() -> None:
    deadline = next(
        d
        for d in compute_deadlines(AWARE, BreachScope(frozenset({Jurisdiction.EU_GDPR})))
        if d.audience is Audience.AUTHORITY
    )
    late = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    draft = build_authority_notice(EARLY, recipient="CNIL", to_follow=STILL_UNKNOWN)
    with pytest.raises(MissingDelayReasons):
        check_ready_to_send(draft, deadline, late)
    explained = build_authority_notice(
        EARLY, recipient="CNIL", to_follow=STILL_UNKNOWN, delay_reasons="the intrusion was found in backups only"
    )
    check_ready_to_send(explained, deadline, late)
    assert "Reasons for the delay: the intrusion was found in backups only" in render_text(explained)
    check_ready_to_send(draft, deadline, datetime(2026, 3, 9, 14, 0, tzinfo=UTC))


def test_validate_notice_rechecks_an_edited_draft() -> None:
    draft = build_authority_notice(COMPLETE, recipient="CNIL", stage=NoticeStage.FINAL)
    emptied = dataclasses.replace(
        draft,
        sections=tuple(
            dataclasses.replace(s, text=None) if s.field is NoticeField.MEASURES else s for s in draft.sections
        ),
    )
    with pytest.raises(IncompleteNotice, match="measures"):
        validate_notice(emptied)


def test_naive_awareness_is_refused() -> None:
    with pytest.raises(NaiveDatetime):
        BreachFacts(reference="BR-1", aware_at=datetime(2026, 3, 6, 15, 0))
