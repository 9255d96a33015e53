"""The token endpoint (RFC 6749 §3.2): form-encoded in, JSON out, errors in the OAuth format (§5.2).

The body is read here rather than by FastAPI's form support, so every malformed request is an
OAuth error (``invalid_request``) and never an RFC 9457 problem, which OAuth clients do not read.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.identity.api.deps import Public
from services.identity.domain.errors import OAuthError
from services.identity.domain.requests import FORM, client_credentials, parse_form
from services.identity.schemas import OAuthErrorOut, TokenOut
from services.identity.service import grants, tokens
from shared.runtime.problems import PROBLEM_RESPONSES

log = structlog.get_logger("privops.identity.oauth")
router = APIRouter(tags=["oauth"])
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 §5.1

TOKEN_REQUEST: dict[str, Any] = {
    "required": True,
    "content": {
        FORM: {
            "schema": {
                "type": "object",
                "required": ["grant_type"],
                "properties": {
                    "grant_type": {"type": "string", "enum": list(tokens.GRANT_TYPES)},
                    "scope": {"type": "string", "description": "Space-separated; a subset of the client's"},
                    "tenant": {"type": "string", "description": "For a client acting on every tenant"},
                    "client_id": {"type": "string", "description": "With client_secret, instead of HTTP Basic"},
                    "client_secret": {"type": "string"},
                    "code": {"type": "string", "description": "authorization_code grant"},
                    "redirect_uri": {"type": "string", "description": "authorization_code grant"},
                    "code_verifier": {"type": "string", "description": "authorization_code grant (PKCE)"},
                },
            }
        }
    },
}
OAUTH_ERROR = {"content": {"application/json": {"schema": OAuthErrorOut.model_json_schema()}}}
# Restored after the service factory documents every 4xx as a problem: these are OAuth errors.
OAUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "invalid_request, invalid_grant, unauthorized_client, unsupported_grant_type, invalid_scope"}
    | OAUTH_ERROR,
    401: {"description": "invalid_client"} | OAUTH_ERROR,
}


def oauth_error(exc: OAuthError) -> JSONResponse:
    """The RFC 6749 §5.2 response of ``exc``."""
    headers = dict(NO_STORE)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="privops", charset="UTF-8"'
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


@router.post(
    "/oauth/token",
    response_model=TokenOut,
    response_model_exclude_none=True,
    responses=OAUTH_RESPONSES | {422: PROBLEM_RESPONSES[422]},  # a NUL character, refused by the platform
    openapi_extra={"requestBody": TOKEN_REQUEST},
    summary="Get an access token",
)
async def token(request: Request, public: Public) -> Any:
    """Client credentials (RFC 6749 §4.4) or, for console clients, authorization code with PKCE (§4.1, RFC 7636).

    The client authenticates with HTTP Basic or ``client_id`` and ``client_secret`` in the body.
    """
    try:
        params = parse_form(request.headers.get("content-type", ""), await request.body())
        credentials = client_credentials(request.headers.get("authorization"), params)
        answer = await grants.issue(public, params, credentials)
    except OAuthError as exc:
        log.info("identity.token.refused", error=exc.error)
        return oauth_error(exc)
    return JSONResponse(TokenOut.model_validate(answer).model_dump(exclude_none=True), headers=NO_STORE)
