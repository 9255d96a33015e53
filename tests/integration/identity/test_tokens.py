"""The token endpoint: client credentials by Basic or body, OAuth errors, scopes narrowed, tenants kept."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest

from tests.integration.identity.support import (
    SECRET,
    access_token,
    bearer,
    identity,
    token_response,
    verify_with_jwks,
)
from tests.support.stack import Infra

pytestmark = pytest.mark.integration


async def test_client_credentials_with_basic_and_in_the_body(infra: Infra, topic_prefix: str, tmp_path: Path) -> None:
    async with identity(infra, topic_prefix, tmp_path) as svc:
        response = await token_response(svc, "acme-admin")
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] == 600
        assert body["scope"] == "consent:write dsar:admin identity:admin"
        header = jwt.get_unverified_header(body["access_token"])
        assert header["alg"] == "EdDSA" and header["typ"] == "at+jwt"
        claims = await verify_with_jwks(svc, body["access_token"])
        assert claims["iss"] == "https://id.test"
        assert claims["sub"] == "client:acme-admin" and claims["client_id"] == "acme-admin"
        assert claims["tenant"] == "acme" and claims["scope"] == body["scope"]
        assert claims["exp"] - claims["iat"] == 600 and claims["nbf"] == claims["iat"] and claims["jti"]
        assert "system" not in claims

        posted = await svc.client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": "acme-admin", "client_secret": SECRET},
        )
        assert posted.status_code == 200, posted.text
        # The service accepts its own token on its API, verified locally.
        own = {"Authorization": f"Bearer {posted.json()['access_token']}"}
        listed = await svc.client.get("/v1/clients", headers=own)
        assert listed.status_code == 200 and [c["client_id"] for c in listed.json()] == ["acme-admin"]


async def test_client_authentication_failures_are_invalid_client(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    async with identity(infra, topic_prefix, tmp_path) as svc:
        for response in (
            await token_response(svc, "acme-admin", "w" * 40),  # wrong secret
            await token_response(svc, "nobody"),  # unknown client
            await svc.client.post("/oauth/token", data={"grant_type": "client_credentials"}),  # no authentication
        ):
            assert response.status_code == 401, response.text
            assert response.json()["error"] == "invalid_client"
            assert response.headers["www-authenticate"].startswith("Basic")
            assert response.headers["content-type"] == "application/json"
            assert response.headers["cache-control"] == "no-store"
        wrong_grant = await token_response(svc, "acme-admin", grant_type="password")
        assert (wrong_grant.status_code, wrong_grant.json()["error"]) == (400, "unsupported_grant_type")
        no_grant = await svc.client.post("/oauth/token", data={"client_id": "acme-admin", "client_secret": SECRET})
        assert (no_grant.status_code, no_grant.json()["error"]) == (400, "invalid_request")
        as_json = await svc.client.post("/oauth/token", json={"grant_type": "client_credentials"})
        assert (as_json.status_code, as_json.json()["error"]) == (400, "invalid_request")
        repeated = await svc.client.post(
            "/oauth/token",
            content=b"grant_type=client_credentials&scope=a&scope=b",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert (repeated.status_code, repeated.json()["error"]) == (400, "invalid_request")


async def test_scopes_are_narrowed_and_never_widened(infra: Infra, topic_prefix: str, tmp_path: Path) -> None:
    async with identity(infra, topic_prefix, tmp_path) as svc:
        narrowed = await token_response(svc, "acme-admin", scope="dsar:read consent:write")
        assert narrowed.status_code == 200 and narrowed.json()["scope"] == "consent:write dsar:read"
        assert (await verify_with_jwks(svc, narrowed.json()["access_token"]))["scope"] == "consent:write dsar:read"
        for wider in ("consent:admin", "platform:admin", "dsar:task", "billing:read", "dsar:read breach:read"):
            refused = await token_response(svc, "acme-admin", scope=wider)
            assert (refused.status_code, refused.json()["error"]) == (400, "invalid_scope"), wider


async def test_a_tenant_bound_client_cannot_ask_for_another_tenant(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    async with identity(infra, topic_prefix, tmp_path) as svc:
        other = await token_response(svc, "acme-admin", tenant="globex")
        assert (other.status_code, other.json()["error"]) == (400, "invalid_target")
        own = await token_response(svc, "acme-admin", tenant="acme")
        assert own.status_code == 200
        # A privops service acts on every tenant, one token per tenant.
        claims = await verify_with_jwks(svc, await access_token(svc, "dsar", tenant="globex"))
        assert (claims["tenant"], claims["sub"]) == ("globex", "service:dsar")
        unnamed = await token_response(svc, "dsar")
        assert (unnamed.status_code, unnamed.json()["error"]) == (400, "invalid_request")


async def test_a_store_client_token_names_its_system_and_carries_only_dsar_task(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    async with identity(infra, topic_prefix, tmp_path) as svc:
        admin = await bearer(svc, "acme-admin")
        store = {"client_id": "crm-store", "name": "CRM", "kind": "store", "scopes": ["dsar:task"], "system": "crm"}
        created = await svc.client.post("/v1/clients", json=store, headers=admin)
        assert created.status_code == 201, created.text
        secret = created.json()["client_secret"]
        claims = await verify_with_jwks(svc, await access_token(svc, "crm-store", secret))
        assert claims["system"] == "crm" and claims["scope"] == "dsar:task"
        assert (claims["sub"], claims["tenant"]) == ("system:crm", "acme")
        wider = await token_response(svc, "crm-store", secret, scope="dsar:read")
        assert wider.json()["error"] == "invalid_scope"


async def test_a_disabled_client_gets_no_new_token(infra: Infra, topic_prefix: str, tmp_path: Path) -> None:
    async with identity(infra, topic_prefix, tmp_path) as svc:
        admin = await bearer(svc, "acme-admin")
        backend = {"client_id": "shop", "name": "Shop", "kind": "backend", "scopes": ["consent:write"]}
        secret = (await svc.client.post("/v1/clients", json=backend, headers=admin)).json()["client_secret"]
        earlier = await access_token(svc, "shop", secret)
        disabled = await svc.client.delete("/v1/clients/shop", headers=admin)
        assert disabled.status_code == 200 and disabled.json()["disabled_at"]
        refused = await token_response(svc, "shop", secret)
        assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")
        assert (await verify_with_jwks(svc, earlier))["sub"] == "client:shop"  # it runs out at its expiry

        rotated = await svc.client.post("/v1/clients/acme-admin/secret", headers=admin)
        assert rotated.status_code == 200
        assert (await token_response(svc, "acme-admin")).status_code == 401  # the old secret stops at once
        assert (await token_response(svc, "acme-admin", rotated.json()["client_secret"])).status_code == 200


async def test_the_service_refuses_tokens_that_are_not_its_access_tokens(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    from services.identity.service.crypto import KeyPair, generate, sign

    async with identity(infra, topic_prefix, tmp_path) as svc:
        token = await access_token(svc, "acme-admin")
        claims = jwt.decode(token, options={"verify_signature": False})
        kid, _, foreign = generate()
        forged = sign(KeyPair(jwt.get_unverified_header(token)["kid"], foreign), "at+jwt", claims)
        unknown_kid = sign(KeyPair(kid, foreign), "at+jwt", claims)
        for bad in (forged, unknown_kid):
            response = await svc.client.get("/v1/clients", headers={"Authorization": f"Bearer {bad}"})
            assert response.status_code == 401, response.text
        # A document signed by this service is not a bearer token (typ is not at+jwt).
        dsar = await bearer(svc, "dsar", tenant="acme")
        document = {"typ": "x+jwt", "claims": {k: v for k, v in claims.items() if k != "iss"}}
        signed = await svc.client.post("/v1/signatures", json=document, headers=dsar)
        jws = signed.json()["jws"]
        assert (await svc.client.get("/v1/clients", headers={"Authorization": f"Bearer {jws}"})).status_code == 401
