"""OpenID Connect pages and endpoints for people: the login form, userinfo, the invitation page.

The form and the invitation are HTML for a browser (their errors too); ``/userinfo`` answers a
person's access token (OIDC Core 1.0 §5.3).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.identity.api.deps import Public
from services.identity.api.pages import HTML_RESPONSE, message, page
from services.identity.domain.clients import ALL_TENANTS
from services.identity.domain.errors import InvalidRequest, InvalidUser
from services.identity.domain.logins import (
    PASSWORD_MIN,
    AuthorizeError,
    AuthorizeRequest,
    UnsafeRedirect,
    error_redirect,
)
from services.identity.domain.requests import FORM, parse_form
from services.identity.models import Client
from services.identity.service import Uow
from services.identity.service import login as service
from services.identity.service import users as user_service
from services.identity.service.login import Refused
from shared.rules.errors import Forbidden, Unauthorized
from shared.runtime.auth import Principal, authenticate
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["sign-in"])
PARAMETERS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
)
QUERY = [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}} for n in PARAMETERS]


def _form_body(*names: str) -> dict[str, Any]:
    properties = {name: {"type": "string"} for name in names}
    return {"required": True, "content": {FORM: {"schema": {"type": "object", "properties": properties}}}}


LOGIN_FORM = _form_body(*PARAMETERS, "tenant", "email", "password")
INVITE_FORM = _form_body("token", "password", "confirm")
PAGES: dict[int | str, dict[str, Any]] = {
    303: {"description": "Back to the application, with a code or an error"},
    400: {"description": "Cannot sign in (unknown application, wrong credentials)"} | HTML_RESPONSE,
    429: {"description": "Too many failed sign-ins"} | HTML_RESPONSE,
    422: PROBLEM_RESPONSES[422],  # the platform refuses a NUL character anywhere in a request
}
INVITE_PAGES: dict[int | str, dict[str, Any]] = {
    400: {"description": "The password cannot be used"} | HTML_RESPONSE,
    410: {"description": "The invitation has expired or was used"} | HTML_RESPONSE,
    422: PROBLEM_RESPONSES[422],
}


def _query(request: Request) -> dict[str, str]:
    params = request.query_params
    if any(len(params.getlist(name)) > 1 for name in params):
        raise InvalidRequest("a parameter is repeated")
    return dict(params)


def _form(
    public: Uow,
    request: AuthorizeRequest,
    client: Client,
    error: str | None = None,
    *,
    status: int = 200,
    tenant: str = "",
    email: str = "",
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    fixed = client.tenant_id != ALL_TENANTS
    return page(
        "login.html",
        status,
        form_target=request.redirect_uri,
        headers=headers,
        title="Sign in",
        client_name=client.name,
        action=f"{public.settings.issuer}/authorize",
        hidden=request.hidden_fields(),
        tenant=client.tenant_id if fixed else tenant,
        tenant_fixed=fixed,
        email=email,
        error=error,
    )


async def _checked(public: Uow, params: dict[str, str]) -> tuple[AuthorizeRequest, Client] | Response:
    try:
        return await service.authorization(public, params)
    except UnsafeRedirect as exc:
        return message("Cannot sign in", str(exc), 400)
    except AuthorizeError as exc:
        return RedirectResponse(error_redirect(exc, public.settings.issuer), status_code=303)


@router.get(
    "/authorize",
    response_class=HTMLResponse,
    responses=PAGES,
    openapi_extra={"parameters": QUERY},
    summary="The login form (OpenID Connect authorization endpoint)",
)
async def authorize_form(request: Request, public: Public) -> Response:
    """The form where a person signs in with tenant, email and password; PKCE S256 is required."""
    try:
        checked = await _checked(public, _query(request))
    except InvalidRequest as exc:
        return message("Cannot sign in", exc.description, 400)
    return checked if isinstance(checked, Response) else _form(public, *checked)


@router.post(
    "/authorize",
    response_class=HTMLResponse,
    responses=PAGES,
    openapi_extra={"requestBody": LOGIN_FORM},
    summary="Sign in (the login form's answer)",
)
async def authorize(request: Request, public: Public) -> Response:
    """Check the password: back to the application with a code, or the form again with what went wrong."""
    try:
        params = parse_form(request.headers.get("content-type", ""), await request.body())
    except InvalidRequest as exc:
        return message("Cannot sign in", exc.description, 400)
    checked = await _checked(public, params)
    if isinstance(checked, Response):
        return checked
    auth, client = checked
    tenant, email = params.get("tenant", ""), params.get("email", "")
    outcome = await service.sign_in(public, auth, client, tenant, email, params.get("password", ""))
    if isinstance(outcome, Refused):
        headers = {"Retry-After": str(outcome.retry_after_s)} if outcome.retry_after_s else None
        return _form(
            public, auth, client, outcome.message, status=outcome.status, tenant=tenant, email=email, headers=headers
        )
    return RedirectResponse(outcome, status_code=303)


USERINFO: dict[int | str, dict[str, Any]] = {code: PROBLEM_RESPONSES[code] for code in (401, 403, 422)}


@router.post("/userinfo", responses=USERINFO, summary="Claims about the person signed in (POST)")
@router.get("/userinfo", responses=USERINFO, summary="Claims about the person signed in")
async def userinfo(principal: Annotated[Principal, Depends(authenticate)], public: Public) -> dict[str, Any]:
    """Who the access token's person is: sub, email, name, tenant, roles (OIDC Core 1.0 §5.3)."""
    kind, _, email = principal.subject.partition(":")
    if kind != "user" or not email:
        raise Forbidden("userinfo answers a person's access token (sub user:<email>).")
    claims = await service.userinfo(public.for_tenant(principal.tenant_id), email)
    if claims is None:
        raise Unauthorized("The account of this token is disabled or gone.")
    return claims


@router.get("/invite", response_class=HTMLResponse, responses=INVITE_PAGES, summary="The invitation page")
async def invite_form(public: Public, token: str = "") -> HTMLResponse:
    """Where an invited person chooses their password (the link works once, until it expires)."""
    user = await user_service.invited(public, token) if token else None
    if user is None:
        return message(
            "Invitation", "This invitation has expired or was used. Ask your administrator for another.", 410
        )
    return _invite_page(public, token, user.email)


def _invite_page(public: Uow, token: str, email: str, error: str | None = None, status: int = 200) -> HTMLResponse:
    return page(
        "invite.html",
        status,
        title="Choose your password",
        action=f"{public.settings.issuer}/invite",
        token=token,
        email=email,
        error=error,
        min_length=PASSWORD_MIN,
    )


@router.post(
    "/invite",
    response_class=HTMLResponse,
    responses=INVITE_PAGES,
    openapi_extra={"requestBody": INVITE_FORM},
    summary="Set the password of an invitation",
)
async def accept_invite(request: Request, public: Public) -> HTMLResponse:
    """Set the password; the link is spent."""
    try:
        params = parse_form(request.headers.get("content-type", ""), await request.body())
    except InvalidRequest as exc:
        return message("Invitation", exc.description, 400)
    token, password = params.get("token", ""), params.get("password", "")
    user = await user_service.invited(public, token) if token else None
    if user is None:
        return message(
            "Invitation", "This invitation has expired or was used. Ask your administrator for another.", 410
        )
    if password != params.get("confirm"):
        return _invite_page(public, token, user.email, "The two passwords differ.", 400)
    try:
        await user_service.accept_invite(public, token, password)
    except InvalidUser as exc:
        return _invite_page(public, token, user.email, f"This password cannot be used: {exc.detail}.", 400)
    return message("Password set", "Your password is set: sign in from your privacy console.", 200)
