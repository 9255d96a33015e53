"""The public pages of notices: a text shown as written (escaped), and unsubscribing only by a button."""

from __future__ import annotations

from datetime import UTC, datetime

from services.consent.api.pages import text_page, unsubscribe_page
from services.consent.schemas.notices import PublicTextOut, UnsubscribeOut

AT = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def version(**changes: object) -> PublicTextOut:
    values: dict[str, object] = {
        "purpose": "newsletter",
        "version": 2,
        "title": "Newsletter <b>news</b>",
        "summary": "Weekly & partners",
        "language": "fr",
        "material": True,
        "requires_renewal": True,
        "published_at": AT,
        "expires_at": None,
        "text_hash": "00" * 32,
        "url": None,
        "link": "https://consent.example/v1/public/tenants/demo/notices/newsletter/versions/2",
        "text": "First <script>alert(1)</script>\nline two\n\nSecond paragraph",
        "previous": "https://consent.example/v1/public/tenants/demo/notices/newsletter/versions/1?a=1&b=2",
    }
    return PublicTextOut.model_validate(values | changes)


def test_a_text_is_shown_as_written_never_as_markup() -> None:
    page = text_page(version())
    assert page.startswith("<!doctype html>") and '<html lang="fr">' in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<h1>Newsletter &lt;b&gt;news&lt;/b&gt;</h1>" in page and "Weekly &amp; partners" in page
    assert "<p>First &lt;script&gt;alert(1)&lt;/script&gt;<br>line two</p><p>Second paragraph</p>" in page
    assert 'href="https://consent.example/v1/public/tenants/demo/notices/newsletter/versions/1?a=1&amp;b=2"' in page
    assert "previous version" not in text_page(version(version=1, previous=None))


def test_unsubscribing_takes_a_button_and_the_answer_says_what_is_still_sent() -> None:
    ask = unsubscribe_page(UnsubscribeOut(unsubscribed=False, detail="Confirm."), "/v1/x", "ab.cd", done=False)
    assert '<form method="post" action="/v1/x?token=ab.cd">' in ask
    done = unsubscribe_page(UnsubscribeOut(unsubscribed=True, detail="Done."), "/v1/x", "ab.cd", done=True)
    assert "<form" not in done and "Done." in done
