"""The identity service in tests: a bootstrap file of clients, fast Argon2 parameters, tokens by HTTP."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
