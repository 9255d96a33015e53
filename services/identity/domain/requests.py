"""Reading OAuth 2.0 requests: form parameters and client credentials (RFC 6749 §2.3.1, §3.2)."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl, unquote_plus

from .errors import InvalidClientAuth, InvalidRequest

FORM = "application/x-www-form-urlencoded"
MAX_PARAMETER = 4096


def parse_form(content_type: str, body: bytes) -> dict[str, str]:
    """The parameters of a form-encoded body; a repeated or oversized parameter is invalid_request."""
    if content_type.split(";")[0].strip().lower() != FORM:
        raise InvalidRequest(f"the request body is {FORM}")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest("the request body is not valid form encoding") from None
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise InvalidRequest(f"the parameter {name!r} is repeated (RFC 6749 §3.2)")
        if len(value) > MAX_PARAMETER or "\x00" in value or "\x00" in name:
            raise InvalidRequest(f"the parameter {name!r} is malformed")
        params[name] = value
    return {k: v for k, v in params.items() if v != ""}  # an empty parameter counts as omitted (§3.1)


def client_credentials(authorization: str | None, params: dict[str, str]) -> tuple[str, str]:
    """The client id and secret from HTTP Basic or from the body (exactly one way), else invalid_client."""
    in_body = "client_id" in params or "client_secret" in params
    if authorization and authorization[:6].lower() == "basic ":
        if in_body and "client_secret" in params:
            raise InvalidRequest("the client authenticates one way only: HTTP Basic or the body (RFC 6749 §2.3)")
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidClientAuth("the Basic credentials are malformed") from None
        raw_id, sep, raw_secret = decoded.partition(":")
        if not sep:
            raise InvalidClientAuth("the Basic credentials are malformed")
        client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)  # form-encoded (RFC 6749 §2.3.1)
        if "\x00" in client_id:  # no client id holds one, and PostgreSQL text cannot: never look it up
            raise InvalidClientAuth("the Basic credentials are malformed")
        if "client_id" in params and params["client_id"] != client_id:
            raise InvalidRequest("client_id differs from the authenticated client")
        return client_id, secret
    if "client_id" in params and "client_secret" in params:
        return params["client_id"], params["client_secret"]
    raise InvalidClientAuth("the client authenticates with HTTP Basic or client_id and client_secret")
