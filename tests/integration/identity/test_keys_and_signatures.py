"""Token key rotation and JWKS; tenants' document signatures, verifiable with nothing but the public JWKS."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import cast

import jwt
import pytest

from services.identity.jobs import KEYS
from shared.rules.clock import ManualClock
from tests.integration.identity.support import access_token, bearer, identity, verify_with_jwks
from tests.support.stack import Infra, RunningService

pytestmark = pytest.mark.integration
CERTIFICATE = {"typ": "erasure-certificate+jwt", "claims": {"sub": "request:r-1", "outcome": "completed"}}


def advance(svc: RunningService, delta: timedelta) -> None:
    cast(ManualClock, svc.clock).advance(delta)


def kids(jwks: dict[str, list[dict[str, str]]]) -> list[str]:
    return [k["kid"] for k in jwks["keys"]]


async def test_rotation_keeps_the_old_key_published_until_its_tokens_expire(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    async with identity(infra, topic_prefix, tmp_path) as svc:
        jwks = (await svc.client.get("/.well-known/jwks.json")).json()
        assert len(jwks["keys"]) == 1
        assert jwks["keys"][0] | {"x": "", "kid": ""} == {
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "x": "", "kid": "",
        }  # fmt: skip
        old_kid = jwks["keys"][0]["kid"]
        old_token = await access_token(svc, "acme-admin")
        assert jwt.get_unverified_header(old_token)["kid"] == old_kid

        assert (await svc.client.post("/v1/keys/rotate", headers=await bearer(svc, "acme-admin"))).status_code == 403
        rotated = await svc.client.post("/v1/keys/rotate", headers=await bearer(svc, "operator", tenant="ops"))
        assert rotated.status_code == 200 and rotated.json()["retired"] == old_kid
        new_kid = rotated.json()["kid"]
        assert kids((await svc.client.get("/.well-known/jwks.json")).json()) == [new_kid, old_kid]
        assert jwt.get_unverified_header(await access_token(svc, "acme-admin"))["kid"] == new_kid
        # Tokens signed by the retired key still verify, with the JWKS and on this service's API.
        assert (await verify_with_jwks(svc, old_token))["sub"] == "client:acme-admin"
        listed = await svc.client.get("/v1/clients", headers={"Authorization": f"Bearer {old_token}"})
        assert listed.status_code == 200

        assert await svc.runtime.jobs.run_once(KEYS) == 0  # still needed: nothing to drop
        advance(svc, timedelta(minutes=13))  # past the 10-minute tokens, and the skew
        assert await svc.runtime.jobs.run_once(KEYS) == 1  # dropped
        assert kids((await svc.client.get("/.well-known/jwks.json")).json()) == [new_kid]


async def test_the_job_rotates_the_token_key_when_it_is_due(infra: Infra, topic_prefix: str, tmp_path: Path) -> None:
    async with identity(infra, topic_prefix, tmp_path, key_rotation_days=30) as svc:
        [first] = kids((await svc.client.get("/.well-known/jwks.json")).json())
        advance(svc, timedelta(days=29))
        assert await svc.runtime.jobs.run_once(KEYS) == 0
        advance(svc, timedelta(days=1))
        assert await svc.runtime.jobs.run_once(KEYS) == 1
        second, retired = kids((await svc.client.get("/.well-known/jwks.json")).json())
        assert retired == first and second != first


async def test_a_document_signature_verifies_with_the_tenant_jwks_only(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    async with identity(infra, topic_prefix, tmp_path) as svc:
        assert (await svc.client.get("/.well-known/privops/tenants/acme/jwks.json")).status_code == 404
        acme = await bearer(svc, "dsar", tenant="acme")
        signed = await svc.client.post("/v1/signatures", json=CERTIFICATE, headers=acme)
        assert signed.status_code == 200, signed.text
        jws = signed.json()["jws"]
        assert signed.json()["jwks_uri"] == "https://id.test/.well-known/privops/tenants/acme/jwks.json"
        header = jwt.get_unverified_header(jws)
        assert header == {"alg": "EdDSA", "kid": signed.json()["kid"], "typ": "erasure-certificate+jwt"}

        # A verifier holds nothing but the public JWKS of the tenant and PyJWT.
        jwks = (await svc.client.get("/.well-known/privops/tenants/acme/jwks.json")).json()
        key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == header["kid"])).key
        claims = jwt.decode(jws, key, algorithms=["EdDSA"])
        assert claims["iss"] == "https://id.test/tenants/acme" and claims["outcome"] == "completed"
        assert isinstance(claims["iat"], int)
        # The token keys and another tenant's document keys do not verify it.
        await svc.client.post("/v1/signatures", json=CERTIFICATE, headers=await bearer(svc, "dsar", tenant="globex"))
        globex = (await svc.client.get("/.well-known/privops/tenants/globex/jwks.json")).json()
        assert header["kid"] not in kids(globex)
        tokens = (await svc.client.get("/.well-known/jwks.json")).json()
        for other in (*globex["keys"], *tokens["keys"]):
            with pytest.raises(jwt.InvalidSignatureError):
                jwt.decode(jws, jwt.PyJWK(other).key, algorithms=["EdDSA"])

        # A rotated document key: the new one signs, the old certificate still verifies.
        rotated = await svc.client.post("/v1/keys/documents/rotate", headers=await bearer(svc, "acme-admin"))
        assert rotated.status_code == 200 and rotated.json()["retired"] == header["kid"]
        later = (await svc.client.post("/v1/signatures", json=CERTIFICATE, headers=acme)).json()
        assert later["kid"] == rotated.json()["kid"]
        jwks = (await svc.client.get("/.well-known/privops/tenants/acme/jwks.json")).json()
        assert kids(jwks) == [later["kid"], header["kid"]]
        assert jwt.decode(jws, jwt.PyJWK(jwks["keys"][1]).key, algorithms=["EdDSA"])["outcome"] == "completed"


async def test_only_privops_services_have_documents_signed(infra: Infra, topic_prefix: str, tmp_path: Path) -> None:
    async with identity(infra, topic_prefix, tmp_path) as svc:
        assert (await svc.client.post("/v1/signatures", json=CERTIFICATE)).status_code == 401
        admin = await bearer(svc, "acme-admin")
        assert (await svc.client.post("/v1/signatures", json=CERTIFICATE, headers=admin)).status_code == 403
        dsar = await bearer(svc, "dsar", tenant="acme")
        forged = {"typ": "consent-receipt+jwt", "claims": {"iss": "https://id.test/tenants/globex"}}
        refused = await svc.client.post("/v1/signatures", json=forged, headers=dsar)
        assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
        bad_type = await svc.client.post("/v1/signatures", json={"typ": "at+jwt", "claims": {}}, headers=dsar)
        assert bad_type.status_code == 422
        assert (await svc.client.get("/.well-known/privops/tenants/acme/jwks.json")).status_code == 404


async def test_discovery_names_the_endpoints(infra: Infra, topic_prefix: str, tmp_path: Path) -> None:
    async with identity(infra, topic_prefix, tmp_path) as svc:
        meta = (await svc.client.get("/.well-known/openid-configuration")).json()
        assert meta["issuer"] == "https://id.test"
        assert meta["jwks_uri"] == "https://id.test/.well-known/jwks.json"
        assert meta["token_endpoint"] == "https://id.test/oauth/token"
        assert "client_credentials" in meta["grant_types_supported"]
        assert meta["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
        schema = (await svc.client.get("/openapi.json")).json()
        errors = schema["paths"]["/oauth/token"]["post"]["responses"]["401"]["content"]
        assert list(errors) == ["application/json"]  # OAuth errors, not problems
