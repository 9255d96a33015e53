"""The two small HTML pages the public notice routes answer a browser with: a notice text, and unsubscribing."""

from __future__ import annotations

from html import escape

from services.consent.schemas.notices import PublicTextOut, UnsubscribeOut

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.5;"
    "color:#1c1917}a{color:#1d4ed8}.meta{color:#57534e;font-size:.9rem}button{padding:.6rem 1.2rem;font-size:1rem}"
)


def _page(title: str, lang: str, body: str) -> str:
    return (
        f'<!doctype html>\n<html lang="{escape(lang)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>{body}</body></html>\n"
    )


def text_page(notice: PublicTextOut) -> str:
    """One version's text as a page: its title, when it was published, what changed, the text, the one before."""
    title = notice.title or notice.purpose
    paragraphs = "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in (notice.text or "").split("\n\n"))
    meta = f"Version {notice.version}, published {notice.published_at:%Y-%m-%d}"
    parts = [f"<h1>{escape(title)}</h1>", f'<p class="meta">{escape(meta)}</p>']
    if notice.summary:
        parts.append(f'<p class="meta">{escape(notice.summary)}</p>')
    parts.append(paragraphs)
    if notice.previous:
        parts.append(f'<p class="meta"><a href="{escape(notice.previous)}">The previous version</a></p>')
    return _page(title, notice.language, "".join(parts))


def unsubscribe_page(answer: UnsubscribeOut, path: str, token: str, *, done: bool) -> str:
    """Where the person stands, with the button that records the opt-out (a POST: a GET changes nothing)."""
    parts = ["<h1>Notice messages</h1>", f"<p>{escape(answer.detail)}</p>"]
    if not answer.unsubscribed and not done:
        action = f"{path}?token={token}"
        parts.append(f'<form method="post" action="{escape(action)}"><button type="submit">Unsubscribe</button></form>')
    return _page("Notice messages", "en", "".join(parts))
