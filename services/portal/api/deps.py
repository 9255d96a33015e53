"""What every page needs: the portal's context (settings, services, templates, clock) and the console session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.portal.domain import urgency
from services.portal.domain.clocks import describe_period
from services.portal.domain.urgency import describe
from services.portal.service.backends import Backends
from services.portal.service.sealing import Sealer, expired
from services.portal.settings import PortalSettings
from shared.rules.clock import Clock
from shared.rules.errors import RuleViolation

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
SESSION_COOKIE = "portal_session"
LOGIN_COOKIE = "portal_login"
MAX_FORM_BYTES = 64 * 1024


@dataclass
class Portal:
    """The running portal (``app.state.portal``)."""

    settings: PortalSettings
    backends: Backends
    sealer: Sealer
    clock: Clock
    templates: Environment

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        """A page of ``templates/``."""
        html = self.templates.get_template(template).render(**context)
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def templates() -> Environment:
    """The Jinja2 environment (autoescaped) with the portal's filters."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True
    )
    env.filters["date"] = lambda v: str(v)[:10] if v else "—"
    env.filters["when"] = lambda v: str(v)[:16].replace("T", " ") if v else "—"
    env.filters["urlpart"] = lambda v: quote(str(v), safe="")
    env.filters["period"] = describe_period
    env.globals["describe_days"] = describe
    env.globals["colour"] = lambda days: urgency(days).value
    return env


async def portal_of(request: Request) -> Portal:
    """The portal's context."""
    portal: Portal = request.app.state.portal
    return portal


PortalDep = Annotated[Portal, Depends(portal_of)]


class PayloadTooLarge(RuleViolation):
    """A form larger than any page of the portal sends."""

    status = 413
    title = "Form too large"
    code = "form-too-large"


async def form_of(request: Request) -> dict[str, list[str]]:
    """The posted form fields (``application/x-www-form-urlencoded``), each a list of values."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise PayloadTooLarge("A form of the portal is never this large.")
    return parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=200)


FormDep = Annotated[dict[str, list[str]], Depends(form_of)]


@dataclass(frozen=True)
class Session:
    """A person signed in to the console."""

    sid: str
    token: str
    tenant: str
    email: str
    name: str | None
    scopes: frozenset[str]
    csrf: str  # the token every console form carries (``Sealer.csrf`` of the session id)

    def may(self, scope: str) -> bool:
        """Whether the person's roles give ``scope`` (admin ⊃ write ⊃ read)."""
        service, _, level = scope.partition(":")
        levels = ("read", "write", "admin")
        return scope in self.scopes or any(f"{service}:{s}" in self.scopes for s in levels[levels.index(level) + 1 :])


def session_of(request: Request, portal: Portal) -> Session | None:
    """The console session of the request's cookie, or None (missing, tampered with or expired)."""
    hours = portal.settings.session_hours
    value = portal.sealer.open("session", request.cookies.get(SESSION_COOKIE), max_age_s=hours * 3600)
    if value is None or expired(value):
        return None
    return Session(
        sid=str(value["sid"]),
        token=str(value["token"]),
        tenant=str(value.get("tenant") or ""),
        email=str(value.get("email") or ""),
        name=value.get("name"),
        scopes=frozenset(value.get("scopes") or ()),
        csrf=portal.sealer.csrf(str(value["sid"])),
    )
