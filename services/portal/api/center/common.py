"""What every page of the privacy center shares: its router, the tenant's brand, the problem page, the
visitor cookie and the check that a form was sent by a page of this privacy center."""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Header, Request
from fastapi.responses import HTMLResponse, Response

from services.portal.api.deps import Portal
from services.portal.service import center as backends
from services.portal.service.backends import BackendError
from services.portal.service.center import Brand
from shared.runtime.auth import TENANT_PATTERN

router = APIRouter(prefix="/p/{tenant}", tags=["privacy center"], include_in_schema=False)
GpcHeader = Annotated[str | None, Header(alias="Sec-GPC")]
# The privacy center keeps consent choices for the browser, under a random first-party id: the
# consent page never shows or changes the decisions tied to an email, which only a verified rights
# request may do. A tracker that keeps the person's own choice, or that secures a form they send,
# needs no consent (Directive 2002/58/EC Art. 5(3), https://eur-lex.europa.eu/eli/dir/2002/58/oj;
# CNIL guidelines, délibération n° 2020-091, art. 5). It lives 13 months and a later visit does not
# extend it, the lifetime CNIL recommends for exempt trackers (délibération n° 2020-092, art. 5,
# https://www.cnil.fr/fr/cookies-et-autres-traceurs/regles/cookies/lignes-directrices-modificatives-et-recommandation).
VISITOR_COOKIE = "privops_visitor"
VISITOR_ID = re.compile(r"[A-Za-z0-9_-]{32}")  # secrets.token_urlsafe(24)
VISITOR_MAX_AGE_S = 395 * 86400  # 13 months
FOREIGN_FORM = "This form was sent from another site or has expired. Open the page again and send it from there."


def page(portal: Portal, tenant: str, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page of ``templates/center`` for ``tenant`` (its name and colour come in ``brand``)."""
    context.setdefault("brand", Brand(tenant))
    context.setdefault("name", context["brand"].name)
    return portal.render(template, status, tenant=tenant, **context)


async def brand_of(portal: Portal, tenant: str) -> Brand:
    """The tenant's name and colour; a malformed tenant is a 404 page."""
    if not TENANT_PATTERN.match(tenant):
        raise BackendError(404, "There is no privacy center at this address.")
    return await backends.brand(portal.backends, tenant)


def problem_page(portal: Portal, tenant: str, error: BackendError, brand: Brand | None = None) -> HTMLResponse:
    """The page shown when a service refused or is down."""
    status = error.status if error.status in (403, 404, 410, 503) else 502
    titles = {403: "Not allowed", 404: "Not found", 410: "No longer available", 503: "Temporarily unavailable"}
    context = {"brand": brand} if brand else {}
    title = titles.get(status, "Error")
    return page(portal, tenant, "center/problem.html", status, title=title, detail=error.detail, **context)


def visitor_of(request: Request) -> tuple[str, bool]:
    """This browser's visitor id, and whether it is new (its cookie is then set on the answer)."""
    current = request.cookies.get(VISITOR_COOKIE, "")
    if VISITOR_ID.fullmatch(current):
        return current, False
    return secrets.token_urlsafe(24), True


def keep_visitor(response: Response, request: Request, portal: Portal, tenant: str, visitor: str) -> Response:
    """Set the visitor cookie, first-party and for this tenant's pages only; it is never extended by later visits."""
    response.set_cookie(
        VISITOR_COOKIE,
        visitor,
        max_age=VISITOR_MAX_AGE_S,
        path=f"/p/{tenant}",
        httponly=True,
        samesite="lax",
        secure=portal.settings.secure_cookies or request.url.scheme == "https",
    )
    return response


def form_page(
    portal: Portal,
    request: Request,
    tenant: str,
    template: str,
    status: int = 200,
    browser: tuple[str, bool] | None = None,
    /,
    **context: Any,
) -> Response:
    """A page with forms: each carries this browser's form token; a new visitor (``visitor_of``) gets its cookie."""
    visitor, new = browser or visitor_of(request)
    response = page(portal, tenant, template, status, csrf=portal.sealer.csrf(visitor), **context)
    return keep_visitor(response, request, portal, tenant, visitor) if new else response


def _source_host(request: Request) -> str | None:
    """The host the form was sent from: its ``Origin``, else its ``Referer`` (None when neither says)."""
    source = request.headers.get("origin") or request.headers.get("referer") or ""
    if source in ("", "null"):
        return None
    parts = urlsplit(source)
    return parts.netloc.lower() if parts.scheme in ("http", "https") else ""


def from_this_site(request: Request, portal: Portal, form: dict[str, list[str]]) -> bool:
    """Whether a form was sent by a page of this privacy center, in this browser.

    A browser that has the visitor cookie must send the token its pages carry (``csrf``, an HMAC of
    the visitor id under the portal's secret); one without it (never visited, or cleared) must name
    this host as its ``Origin`` or ``Referer``. A form that names another site is refused either way.
    """
    visitor, new = visitor_of(request)
    here = {request.headers.get("host", "").lower(), urlsplit(portal.settings.public_url).netloc.lower()} - {""}
    source = _source_host(request)
    if source is not None and source not in here:
        return False
    if new:
        return source is not None
    return portal.sealer.csrf_matches(visitor, (form.get("csrf") or [""])[0])


def refused(portal: Portal, tenant: str, brand: Brand) -> HTMLResponse:
    """The page of a form sent from another site (403): nothing was done."""
    return page(portal, tenant, "center/problem.html", 403, brand=brand, title="Not allowed", detail=FOREIGN_FORM)


def one(form: dict[str, list[str]], name: str, limit: int = 320) -> str:
    """The first value of a form field, stripped and cut to ``limit``."""
    return (form.get(name) or [""])[0].strip()[:limit]


def uuid_or_404(value: str, detail: str) -> uuid.UUID:
    """``value`` as a UUID; anything else is a 404 page saying ``detail`` (never a bare validation error)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise BackendError(404, detail) from None


def link_token(value: str, detail: str, shortest: int = 16) -> str:
    """The token a mailed link carries; a missing or malformed one is a 404 page saying ``detail``."""
    if not shortest <= len(value) <= 256 or not re.fullmatch(r"[A-Za-z0-9_.~-]+", value):
        raise BackendError(404, detail)
    return value
