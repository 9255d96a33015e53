"""HTML pages for people (the login form, the invitation): rendered with Jinja2, no script, strict headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parents[1] / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
HTML_RESPONSE: dict[str, Any] = {"content": {"text/html": {"schema": {"type": "string"}}}}


def security_headers(form_target: str | None = None) -> dict[str, str]:
    """No script, no framing (clickjacking), no caching, no referrer (an invitation link carries its token).

    ``form-action`` also names the origin the form's answer redirects to (the console's), which
    browsers check on the redirect after a form post.
    """
    targets = "'self'"
    if form_target:
        parts = urlsplit(form_target)
        targets += f" {parts.scheme}://{parts.netloc}"
    policy = (
        f"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'; form-action {targets}"
    )
    return {
        "Content-Security-Policy": policy,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
    }


def page(
    template: str,
    status: int = 200,
    *,
    form_target: str | None = None,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """The page ``template`` rendered with ``values``."""
    body = TEMPLATES.get_template(template).render(**values)
    return HTMLResponse(body, status_code=status, headers=security_headers(form_target) | (headers or {}))


def message(title: str, text: str, status: int) -> HTMLResponse:
    """A page that only says something (an error the person must see, a confirmation)."""
    return page("message.html", status, title=title, message=text, error=status >= 400)
