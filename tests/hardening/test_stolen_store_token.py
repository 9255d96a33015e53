"""A data store's token, stolen and replayed: it opens the store's own DSAR work and nothing else, and it cannot
mint or widen anything at the identity service.

Every service, every bearer-protected route (from the route table, on tenant A's real objects): a token exactly
like the CRM store's (``sub`` ``system:crm``, scope ``dsar:task``, ``system`` and ``client_id`` claims) is a
403 wherever the route's dependencies need anything ``dsar:task`` does not grant (every ``:read``, ``:write``
and ``:admin`` route, the other narrow scopes, ``/userinfo``): never a 2xx, never a 401 (the token itself is
valid) and never a 5xx. The routes it does open are pinned (``STORE_ROUTES``), and checked at their edges: its
own system only, never as manual. At the identity service the real store client's token (EdDSA, from the issuer)
and the copy alike cannot create clients or people nor rotate a secret, and are no client credentials at the
token endpoint; the store client itself gets no wider scope and no other tenant there.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import jwt
import pytest

from tests.hardening.factories import FACTORIES
from tests.hardening.support import (
    TENANT_A,
    TENANT_B,
    Requirement,
    granted,
    problem_errors,
    request_of,
    requirements,
    routes,
    service,
    signed,
    write_report,
)
from tests.integration.identity.support import ACME_ADMIN, CLIENTS, bearer, identity, token_response
from tests.support.stack import SERVICES, Infra, RunningService

pytestmark = pytest.mark.integration

STORE_SCOPES = ("dsar:task",)
STORE = {"client_id": "crm-store", "name": "CRM data store", "kind": "store", "scopes": list(STORE_SCOPES)}
# What a store's token is for: claiming and answering its DSAR tasks, and registering its own system at start.
STORE_ROUTES = {
    ("dsar", "GET", "/v1/tasks/{task_id}/claim"),
    ("dsar", "PUT", "/v1/tasks/{task_id}/export"),
    ("dsar", "PUT", "/v1/contract-end-tasks/{task_id}/export"),
    ("dsar", "PUT", "/v1/systems/{key}"),
}
SYSTEM = {"name": "CRM", "owner": "ops@example.com", "actions": ["erase"]}


def stolen() -> dict[str, str]:
    """The CRM store's token as its client gets it from the issuer, in the tests' development signing mode."""
    return signed(TENANT_A, STORE_SCOPES, "system:crm", system="crm", client_id="crm-store")


def level(needs: list[Requirement]) -> str:
    """The strongest level a route asks for (``admin``, ``write``, ``read``), a narrow scope, or any valid token."""
    asked = {s.partition(":")[2] for r in needs for s in r.scopes}
    return next((lvl for lvl in ("admin", "write", "read") if lvl in asked), "narrow" if asked else "any token")


@pytest.mark.parametrize("name", SERVICES)
async def test_a_stolen_store_token_opens_only_the_stores_routes(
    infra: Infra, topic_prefix: str, tmp_path: Path, name: str
) -> None:
    async with service(infra, name, topic_prefix, tmp_path) as svc:
        ids = await FACTORIES[name](svc, TENANT_A)
        failures: list[str] = []
        opened: set[tuple[str, str, str]] = set()
        refused: Counter[str] = Counter()
        for route in (r for r in routes(svc.app) if r.secured):
            needs = requirements(svc.app, route)
            if needs and granted(needs, STORE_SCOPES):
                opened.add((name, route.method, route.path))
                continue
            request = request_of(svc.app, route, failures)
            response = await svc.client.request(route.method, route.url(ids), headers=stolen(), **request)
            refused[level(needs)] += 1
            if response.status_code != 403:
                failures.append(f"{route.label} [{level(needs)}]: {response.status_code} {response.text[:300]}")
            elif errors := problem_errors(response):
                failures.append(f"{route.label}: not a problem document: {errors}")
        if name == "dsar":
            failures += await store_routes_at_their_edges(svc, ids)
    write_report(f"stolen-store-token-{name}", {"service": name, "refused": dict(refused), "opened": sorted(opened)})
    print(f"\nstolen store token at {name}: refused {dict(refused)}; opened {sorted(opened)}")
    assert not failures, f"{len(failures)} routes let the store's token through:\n" + "\n".join(failures)
    assert opened == {r for r in STORE_ROUTES if r[0] == name}, "the routes a store's token opens changed"


async def store_routes_at_their_edges(svc: RunningService, ids: dict[str, str]) -> list[str]:
    """The token works for its own system and task (so the 403s are the scopes'), and for nothing beyond them."""
    failures = []
    claim = await svc.client.get(f"/v1/tasks/{ids['task_id']}/claim", headers=stolen())
    if claim.status_code != 200:
        failures.append(f"GET /v1/tasks/{{task_id}}/claim [its own task]: {claim.status_code} {claim.text[:300]}")
    own = await svc.client.put("/v1/systems/crm", json=SYSTEM, headers=stolen())
    if own.status_code >= 300:
        failures.append(f"PUT /v1/systems/crm [its own system]: {own.status_code} {own.text[:300]}")
    for path, body, case in (
        ("/v1/systems/billing", SYSTEM, "another system"),
        ("/v1/systems/crm", SYSTEM | {"manual": True, "instructions": "By hand."}, "its own system as manual"),
    ):
        response = await svc.client.put(path, json=body, headers=stolen())
        if response.status_code != 403:
            failures.append(f"PUT {path} [{case}]: {response.status_code} {response.text[:300]}")
    listed = await svc.client.get("/v1/systems", headers=signed(TENANT_A, ["dsar:read"], "user:dpo@acme.example"))
    if [s["key"] for s in listed.json()] != ["crm"] or listed.json()[0].get("manual"):
        failures.append(f"the refused registrations changed the data map: {listed.text[:300]}")
    return failures


async def test_a_store_client_cannot_mint_or_widen(infra: Infra, topic_prefix: str, tmp_path: Path) -> None:
    async with identity(infra, topic_prefix, tmp_path, clients=CLIENTS) as svc:
        admin = await bearer(svc, str(ACME_ADMIN["client_id"]))
        created = await svc.client.post("/v1/clients", json=STORE | {"system": "crm"}, headers=admin)
        assert created.status_code == 201, created.text
        secret = created.json()["client_secret"]
        real = await token_response(svc, "crm-store", secret)
        assert real.status_code == 200, real.text
        token = real.json()["access_token"]
        claims = jwt.decode(token, options={"verify_signature": False})
        copied = jwt.decode(stolen()["Authorization"][7:], options={"verify_signature": False})
        for claim in ("sub", "tenant", "scope", "system", "client_id"):  # the copy used everywhere is faithful
            assert claims[claim] == copied[claim], claim
        clients_before = (await svc.client.get("/v1/clients", headers=admin)).json()

        for which, headers in (("issued", {"Authorization": f"Bearer {token}"}), ("copied", stolen())):
            for method, path, body in (
                (
                    "POST",
                    "/v1/clients",
                    {"client_id": "crm-admin", "name": "x", "kind": "backend", "scopes": ["dsar:admin"]},
                ),
                ("POST", "/v1/clients", STORE | {"client_id": "crm-two", "system": "crm"}),
                ("POST", "/v1/users", {"email": "mallory@acme.example", "name": "M", "roles": ["admin"]}),
                ("POST", "/v1/clients/crm-store/secret", None),
                ("DELETE", "/v1/clients/acme-admin", None),
                ("POST", "/v1/keys/rotate", None),
                ("POST", "/v1/signatures", {"typ": "consent-receipt+jwt", "claims": {"sub": "r-1"}}),
            ):
                response = await svc.client.request(method, path, json=body, headers=headers)
                assert response.status_code == 403, f"{which} {method} {path}: {response.status_code} {response.text}"
            for form in (
                {"grant_type": "client_credentials"},
                {"grant_type": "client_credentials", "scope": "dsar:admin"},
            ):
                # A bearer token is no client authentication (RFC 6749 §2.3): the token endpoint wants the secret.
                response = await svc.client.post("/oauth/token", data=form, headers=headers)
                assert response.status_code == 401, f"{which} {form}: {response.status_code} {response.text}"
                assert response.json()["error"] == "invalid_client"
                assert response.headers["cache-control"] == "no-store"
                assert response.headers["www-authenticate"].startswith("Basic")

        # The store client itself, with its secret: narrowing only, and its own tenant only.
        for params, errors in (
            ({"scope": "dsar:admin"}, {"invalid_scope"}),
            ({"scope": "dsar:task dsar:read"}, {"invalid_scope"}),
            ({"scope": "identity:admin"}, {"invalid_scope"}),
            ({"tenant": TENANT_B}, {"invalid_target", "invalid_request"}),
            ({"tenant": "*"}, {"invalid_target", "invalid_request"}),
        ):
            response = await token_response(svc, "crm-store", secret, **params)
            assert response.status_code == 400, f"{params}: {response.status_code} {response.text}"
            assert response.json()["error"] in errors, f"{params}: {response.text}"
            assert response.headers["cache-control"] == "no-store"
        narrowed = await token_response(svc, "crm-store", secret, scope="dsar:task", tenant=TENANT_A)
        assert narrowed.status_code == 200 and narrowed.json()["scope"] == "dsar:task", narrowed.text

        assert (await svc.client.get("/v1/clients", headers=admin)).json() == clients_before
        people = await svc.client.get("/v1/users", headers=admin)
        assert people.status_code == 200 and people.json() == [], people.text
