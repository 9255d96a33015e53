"""The identity service in tests: a bootstrap file of clients, fast Argon2 parameters, tokens by HTTP."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt

from shared.rules.clock import ManualClock
from shared.rules.scopes import SCOPED_SERVICES
from tests.support.stack import Infra, RunningService, run_service

# Argon2id with little memory and one pass: the parameters are the operator's, the tests need speed.
FAST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 8192, "argon2_parallelism": 1}
SECRET = "s" * 40

# The operator's CLI (every tenant) and a privops service, as the local stack declares them.
OPERATOR = {
    "client_id": "operator",
    "tenant": "*",
    "name": "Operator",
    "kind": "admin",
    "scopes": [f"{s}:admin" for s in SCOPED_SERVICES] + ["platform:admin"],
}
DSAR_SERVICE = {
    "client_id": "dsar",
    "tenant": "*",
    "name": "DSAR service",
    "kind": "service",
    "scopes": ["identity:sign", "dsar:admin", "notify:claim"],
}
ACME_ADMIN = {
    "client_id": "acme-admin",
    "tenant": "acme",
    "name": "Acme admin",
    "kind": "admin",
    "scopes": ["identity:admin", "dsar:admin", "consent:write"],
}
GLOBEX_ADMIN = {**ACME_ADMIN, "client_id": "globex-admin", "tenant": "globex", "name": "Globex admin"}
CLIENTS = [OPERATOR, DSAR_SERVICE, ACME_ADMIN, GLOBEX_ADMIN]


def basic(client_id: str, secret: str = SECRET) -> dict[str, str]:
    """An HTTP Basic Authorization header of a client."""
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


@contextlib.asynccontextmanager
async def identity(
    infra: Infra,
    topic_prefix: str,
    tmp_path: Path,
    clients: list[dict[str, Any]] | None = None,
    database_url: str | None = None,
    **overrides: Any,
) -> AsyncIterator[RunningService]:
    """The identity service (on a fresh database unless given), its bootstrap file holding ``clients``."""
    path = tmp_path / "identity-bootstrap.json"
    path.write_text(json.dumps({"clients": [c | {"secret": SECRET} for c in clients or CLIENTS]}))
    values = FAST_ARGON2 | {"bootstrap_file": str(path), "jobs_enabled": False, "public_url": "https://id.test"}
    url = database_url or infra.fresh_database("identity")
    settings = infra.settings("identity", url, topic_prefix, **(values | overrides))
    async with run_service("identity", settings, ManualClock(datetime.now(UTC))) as svc:
        yield svc


async def token_response(svc: RunningService, client_id: str, secret: str = SECRET, **params: str) -> httpx.Response:
    """POST /oauth/token with client credentials in HTTP Basic."""
    form = {"grant_type": "client_credentials"} | params
    return await svc.client.post("/oauth/token", data=form, headers=basic(client_id, secret))


async def access_token(svc: RunningService, client_id: str, secret: str = SECRET, **params: str) -> str:
    """An access token of a client (asserts success)."""
    response = await token_response(svc, client_id, secret, **params)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def bearer(svc: RunningService, client_id: str, **params: str) -> dict[str, str]:
    """An Authorization header with a client's access token."""
    return {"Authorization": f"Bearer {await access_token(svc, client_id, **params)}"}


async def verify_with_jwks(svc: RunningService, token: str, path: str = "/.well-known/jwks.json") -> dict[str, Any]:
    """Verify ``token`` as anyone would: fetch the public JWKS, pick the kid, check the EdDSA signature."""
    jwks = (await svc.client.get(path)).json()
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
    claims: dict[str, Any] = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["EdDSA"], options={"verify_aud": False})
    return claims


CALLBACK = "https://console.acme.test/callback"
CONSOLE = {
    "client_id": "console",
    "tenant": "acme",
    "name": "Acme privacy console",
    "kind": "console",
    "scopes": [],
    "redirect_uris": [CALLBACK],
}
OTHER_CONSOLE = CONSOLE | {"client_id": "other-console", "redirect_uris": ["https://other.acme.test/callback"]}
PEOPLE_CLIENTS = [*CLIENTS, CONSOLE, OTHER_CONSOLE]
PASSWORD = "correct horse battery staple"


class FormReader(HTMLParser):
    """The first form of a page: its action and its inputs' values (what a browser would post)."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self.visible: set[str] = set()  # ids of the inputs a person fills in
        self.labelled: set[str] = set()  # ids a <label for=…> names

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.action:
            self.action = values.get("action", "")
        elif tag == "input" and "name" in values:
            self.fields[values["name"]] = values.get("value", "")
            if values.get("type") != "hidden":
                self.visible.add(values.get("id", ""))
        elif tag == "label":
            self.labelled.add(values.get("for", ""))


def read_form(html: str) -> FormReader:
    """The form of ``html``."""
    reader = FormReader()
    reader.feed(html)
    return reader


@dataclass
class Pkce:
    """A PKCE pair (RFC 7636)."""

    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        return base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest()).rstrip(b"=").decode()


def authorize_params(pkce: Pkce, client: dict[str, Any] = CONSOLE, **changes: str) -> dict[str, str]:
    """An OpenID Connect authorization request of ``client``."""
    return {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": client["redirect_uris"][0],
        "scope": "openid profile email",
        "state": "state-123",
        "nonce": "nonce-456",
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    } | changes


async def sign_in(
    svc: RunningService, pkce: Pkce, email: str, password: str = PASSWORD, client: dict[str, Any] = CONSOLE
) -> httpx.Response:
    """Open the login form as a browser would, fill it in and post it; the answer (a 303 when it worked)."""
    page = await svc.client.get("/authorize", params=authorize_params(pkce, client))
    assert page.status_code == 200, page.text
    form = read_form(page.text)
    fields = form.fields | {"email": email, "password": password}
    return await svc.client.post(urlsplit(form.action).path, data=fields)


def code_of(response: httpx.Response) -> str:
    """The authorization code of a redirect back to the console."""
    assert response.status_code == 303, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == ["state-123"] and query["iss"] == ["https://id.test"]
    return query["code"][0]


async def exchange(
    svc: RunningService, code: str, pkce: Pkce, client: dict[str, Any] = CONSOLE, **changes: str
) -> httpx.Response:
    """Exchange a code at the token endpoint as the console does."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": client["redirect_uris"][0],
        "code_verifier": pkce.verifier,
    } | changes
    return await svc.client.post("/oauth/token", data=form, headers=basic(client["client_id"]))


async def add_person(svc: RunningService, email: str, roles: list[str], password: str | None = PASSWORD) -> Any:
    """A person of acme, added by the platform operator."""
    body: dict[str, Any] = {"email": email, "name": "Dana Protection", "roles": roles, "tenant": "acme"}
    if password:
        body["password"] = password
    response = await svc.client.post("/v1/users", json=body, headers=await bearer(svc, "operator", tenant="ops"))
    assert response.status_code == 201, response.text
    return response.json()
