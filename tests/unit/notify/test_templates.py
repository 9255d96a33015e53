"""Templates: every key in English and French, text and HTML, tenant overrides, locale fallback."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.notify.domain import TemplateCatalogue, UnknownTemplate, candidate_locales, format_day

CATALOGUE = TemplateCatalogue()
AT = datetime(2026, 12, 6, 14, 5, tzinfo=UTC)
CONTEXT = {
    "request_type": "erasure",
    "request_id": "R-1",
    "code": "482913",
    "expires_at": AT,
    "received_at": AT,
    "due_at": AT,
    "previous_due_at": AT,
    "extended_by": "2 months",
    "reasons": "complexity",
    "basis": "GDPR Art. 12(3)",
    "grounds": "manifestly unfounded",
    "authority": "the CNIL",
    "url": "https://example.test/p/1",
    "systems": 7,
    "certificate_id": "C-1",
    "verification_needed": True,
    "level": "warning",
    "title": "Deadline in 3 days",
    "summary": "Request R-1",
    "link": "https://example.test/r/1",
    # alerts
    "regime": "eu-gdpr",
    "task_id": "T-1",
    "system": "crm",
    "action": "erase",
    "attempts": 3,
    "manual": False,
    "request_due_at": AT,
    "incident_id": "I-1",
    "deadline_id": "D-1",
    "jurisdiction": "eu-gdpr",
    "audience": "authority",
    "hard_limit": True,
    "citation": "GDPR Art. 33(1)",
    "hours_left": "24",
    "sweep_id": "S-1",
    "category": "prospect",
    "requested_at": AT,
    "transfer_id": "X-1",
    "reason": "HTTP 503: busy",
    "status_code": 503,
    "failed_at": AT,
    # portability
    "delivered_at": AT,
    # breach and subprocessor notices
    "reference": "BR-2026-001",
    "incident_title": "Lost laptop",
    "stage": "initial",
    "kind": "authority",
    "body": "What happened.\n\nWhat we did.",
    "contact": {"name": "DPO", "email": "dpo@example.test", "phone": "+33 1 00 00 00 00"},
    "subprocessor": "MailRelay",
    "change_kind": "add",
    "effective_at": AT,
    "objection_deadline": AT,
    "respond_url": "https://example.test/n/1",
    "notice_id": "N-1",
    # authority demands
    "customer": "Umbrella Corp",
    "authority_country": "FR",
    "legal_basis": "Réquisition judiciaire",
    "legal_reference": "Code de procédure pénale, art. 60-1",
    "authority_reference": "BRDA-2026-0412",
    "subjects": 2,
    "data_categories": ["contact_details", "connection_logs"],
    "demand_id": "DM-1",
    # consent receipts
    "receipt_id": "0193a0c4-7d0e-7c4e-9b1a-3f5d2e8c1a20",
    "purpose": "Newsletter",
    "controller": "Démo SAS",
    "decision": "granted",
    "decided_at": "2026-12-06T14:05:00Z",
    # consent notice changes
    "version": 2,
    "published_at": "2026-12-06T14:05:00+00:00",
    "previous_url": "https://consent.example/v1/public/tenants/demo/notices/newsletter/versions/1",
    "history_url": "https://consent.example/v1/public/tenants/demo/notices/newsletter",
    "renewal": False,
    "renewal_url": None,
    "unsubscribe_url": "https://consent.example/v1/public/tenants/demo/unsubscribe?token=t",
    # contract ends
    "contract_end_id": "CE-1",
    "contract_ref": "MSA-2024-017",
    "outcome": "partial",
    "certificate_jws": "eyJhbGciOiJFZERTQSJ9.e30.c2ln",
    "jwks_url": "https://example.test/.well-known/privops/tenants/acme/jwks.json",
}


@pytest.mark.parametrize("locale", ["en", "fr"])
@pytest.mark.parametrize("key", sorted(CATALOGUE.keys()))
def test_every_template_renders_in_both_languages(key: str, locale: str) -> None:
    message = CATALOGUE.render(key, locale, CONTEXT)
    assert message.locale == locale
    assert message.subject and "\n" not in message.subject
    assert message.text.strip()
    assert message.html.startswith("<!doctype html>")
    assert f'lang="{locale}"' in message.html


def test_a_change_notice_links_to_the_portals_page_when_it_has_one() -> None:
    page = "https://privacy.example/p/demo/notices/0193a0c4?token=t"
    for locale in ("en", "fr"):
        assert page not in CATALOGUE.render("subprocessor.change_notice", locale, CONTEXT).text
        assert page in CATALOGUE.render("subprocessor.change_notice", locale, CONTEXT | {"answer_url": page}).text


def test_french_words_and_dates() -> None:
    message = CATALOGUE.render("dsar.verification_code", "fr-FR", CONTEXT)
    assert message.subject == "Votre code de vérification"
    assert "effacement" in message.text
    assert "6 décembre 2026, 14:05 UTC" in message.text
    assert "482913" in message.html


def test_a_consent_receipt_mail_links_to_the_receipt() -> None:
    link = "https://consent.example/v1/public/demo/receipts/0193a0c4?key=k&x=1"
    withdrawn = CONTEXT | {"decision": "withdrawn", "url": link, "purpose": "<b>News</b>"}
    french = CATALOGUE.render("consent.receipt", "fr", withdrawn)
    assert french.subject == "Votre reçu de consentement de Démo SAS"
    assert "Vous avez retiré votre consentement" in french.text and "6 décembre 2026, 14:05 UTC" in french.text
    assert link in french.text and CONTEXT["receipt_id"] in french.text
    assert 'href="https://consent.example/v1/public/demo/receipts/0193a0c4?key=k&amp;x=1"' in french.html
    assert "<b>News</b>" not in french.html and "&lt;b&gt;News&lt;/b&gt;" in french.html
    english = CATALOGUE.render("consent.receipt", "en", CONTEXT)
    assert english.subject == "Your consent receipt from Démo SAS"
    assert english.text.startswith('You gave your consent to "Newsletter" on 6 December 2026, 14:05 UTC.')
    assert "Open my receipt" in english.html


def test_unknown_locale_falls_back_to_english() -> None:
    assert CATALOGUE.render("dsar.completed", "de-AT", CONTEXT).locale == "en"
    assert candidate_locales("fr_CA") == ["fr-CA", "fr", "en"]


def test_html_escapes_what_the_context_holds() -> None:
    message = CATALOGUE.render("dsar.refusal", "en", CONTEXT | {"reasons": "<script>x</script>"})
    assert "<script>" not in message.html
    assert "<script>" in message.text  # plain text is not HTML


def test_tenant_override_wins_and_brand_shows() -> None:
    overrides = {"en/dsar.completed.txt": "Subject: Done at {{ brand.name }}\nAll done, {{ request_id }}.\n"}
    message = CATALOGUE.render("dsar.completed", "en", CONTEXT, overrides=overrides, brand={"name": "Acme"})
    assert message.subject == "Done at Acme"
    assert message.text == "All done, R-1.\n"
    assert "Acme" in message.html
    # Other tenants still get the built-in text.
    assert CATALOGUE.render("dsar.completed", "en", CONTEXT).subject == "Your request has been completed"


def test_override_cannot_reach_python_internals() -> None:
    overrides = {"en/dsar.completed.txt": "Subject: x\n{{ ''.__class__.__mro__[1].__subclasses__() }}\n"}
    with pytest.raises(Exception, match=r"unsafe|access"):
        CATALOGUE.render("dsar.completed", "en", CONTEXT, overrides=overrides)


def test_missing_value_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(Exception, match="code"):
        CATALOGUE.render("dsar.verification_code", "en", {k: v for k, v in CONTEXT.items() if k != "code"})


def test_unknown_template() -> None:
    with pytest.raises(UnknownTemplate):
        CATALOGUE.render("nope", "fr", CONTEXT)


def test_format_day() -> None:
    assert format_day(AT, "en") == "6 December 2026"
    assert format_day("2026-08-01", "fr") == "1 août 2026"


def test_a_notice_change_that_only_informs_can_be_unsubscribed_from() -> None:
    informs = CONTEXT | {"summary": "Monthly instead of weekly."}
    english = CATALOGUE.render("consent.notice.changed", "en", informs)
    assert english.subject == 'Démo SAS has changed "Deadline in 3 days"'
    assert "Monthly instead of weekly." in english.text and "You do not need to do anything" in english.text
    assert CONTEXT["previous_url"] in english.text and CONTEXT["unsubscribe_url"] in english.text
    assert "Stop receiving messages like this one" in english.html
    french = CATALOGUE.render("consent.notice.changed", "fr", informs)
    assert "6 décembre 2026, 14:05 UTC" in french.text and "Ne plus recevoir" in french.html


def test_a_notice_change_that_asks_for_renewal_links_to_the_consent_page() -> None:
    portal = "https://portal.example/p/demo/consent"
    renewal = CONTEXT | {"renewal": True, "renewal_url": portal, "unsubscribe_url": None}
    english = CATALOGUE.render("consent.notice.changed", "en", renewal)
    assert english.subject.startswith("Please confirm your consent: ")
    assert portal in english.text and "Confirm my consent" in english.html
    assert "unsubscribe" not in english.text and "Stop receiving" not in english.html
    french = CATALOGUE.render("consent.notice.changed", "fr-FR", renewal)
    assert french.subject.startswith("Merci de confirmer votre consentement : ")
    assert portal in french.text and "Confirmer mon consentement" in french.html
