"""The token endpoint's dispatch: authenticate the client, then run the grant it asks for."""

from __future__ import annotations

from typing import Any

from services.identity.domain.errors import InvalidRequest, UnsupportedGrantType
from services.identity.service import Uow
from services.identity.service.clients import authenticate
from services.identity.service.login import authorization_code
from services.identity.service.tokens import AUTHORIZATION_CODE, CLIENT_CREDENTIALS, GRANT_TYPES, client_credentials


async def issue(uow: Uow, params: dict[str, str], credentials: tuple[str, str]) -> dict[str, Any]:
    """Answer a token request (RFC 6749 §3.2): the client authenticates, then its grant runs."""
    grant = params.get("grant_type")
    if not grant:
        raise InvalidRequest("grant_type is required")
    client = await authenticate(uow, *credentials)
    if grant == CLIENT_CREDENTIALS:
        return await client_credentials(uow, client, params)
    if grant == AUTHORIZATION_CODE:
        return await authorization_code(uow, client, params)
    raise UnsupportedGrantType(f"grant_type is one of {', '.join(GRANT_TYPES)}")
