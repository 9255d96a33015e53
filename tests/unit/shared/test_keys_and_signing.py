"""Ed25519 documents and tokens: signed once, checked by anyone with the public key set alone."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest

from services.dsar.settings import DsarSettings
from shared.rules import keys
from shared.rules.errors import Unauthorized
from shared.runtime.auth import TokenVerifier
from shared.runtime.signing import LocalSigner, document_signer
from shared.runtime.tokens import service_tokens


def dev_settings(**overrides: Any) -> DsarSettings:
    values: dict[str, Any] = {
        "database_url": "postgresql+asyncpg://x@127.0.0.1/db",
        "kafka_bootstrap_servers": "127.0.0.1:9092",
        "jwt_secret": "j" * 40,
        "environment": "test",
        "subject_hash_key": "h" * 40,
        "signing_key": "s" * 40,
    }
    return DsarSettings(**values | overrides)


def test_a_document_verifies_with_the_public_set_only() -> None:
    key = keys.new_private_key()
    kid = keys.thumbprint_kid(key.public_key())
    jws = keys.sign(key, kid, {"certificate_id": "c1", "systems": [{"system": "crm"}]}, typ="test+jwt")
    jwks = {"keys": [keys.public_jwk(key, kid)]}
    assert keys.verify(jws, jwks, typ="test+jwt")["certificate_id"] == "c1"
    # The documented check with PyJWT alone.
    public = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(jws)["kid"]].key
    assert jwt.decode(jws, public, algorithms=["EdDSA"])["systems"] == [{"system": "crm"}]


def test_a_changed_document_or_another_key_does_not_verify() -> None:
    key, other = keys.new_private_key(), keys.new_private_key()
    kid = keys.thumbprint_kid(key.public_key())
    jws = keys.sign(key, kid, {"outcome": "complete"})
    header, _payload, signature = jws.split(".")
    forged_payload = keys._b64url(json.dumps({"outcome": "partial"}).encode())
    with pytest.raises(keys.SignatureInvalid, match="does not verify"):
        keys.verify(f"{header}.{forged_payload}.{signature}", {"keys": [keys.public_jwk(key, kid)]})
    with pytest.raises(keys.SignatureInvalid, match="does not verify"):
        keys.verify(jws, {"keys": [keys.public_jwk(other, kid)]})
    with pytest.raises(keys.SignatureInvalid, match="no published key"):
        keys.verify(jws, {"keys": [keys.public_jwk(key, "another-kid")]})
    with pytest.raises(keys.SignatureInvalid, match="not a"):
        keys.verify(jws, {"keys": [keys.public_jwk(key, kid)]}, typ="consent-receipt+jwt")
    hs = jwt.encode({"a": 1}, "x" * 40, algorithm="HS256", headers={"kid": kid})
    with pytest.raises(keys.SignatureInvalid, match="HS256"):
        keys.verify(hs, {"keys": [keys.public_jwk(key, kid)]})


def test_the_thumbprint_kid_follows_rfc_7638() -> None:
    # RFC 8037 Appendix A.3: the thumbprint of its example Ed25519 key.
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert keys.thumbprint_kid(keys.jwk_public_key(jwk)) == "kPrK_qmxVWaYVA9wwBF6Iu"


async def test_development_documents_are_per_tenant() -> None:
    signer = document_signer(dev_settings())
    assert isinstance(signer, LocalSigner)
    jws = await signer.sign("acme", "erasure-certificate+jwt", {"request_id": "r1"})
    claims = keys.verify(jws, await signer.jwks("acme"), typ="erasure-certificate+jwt")
    assert claims["iss"].endswith("/tenants/acme")
    with pytest.raises(keys.SignatureInvalid):
        keys.verify(jws, await signer.jwks("globex"))
    assert signer.jwks_url("acme").endswith("/.well-known/privops/tenants/acme/jwks.json")


async def test_development_service_tokens_are_cached_and_name_the_service() -> None:
    settings = dev_settings()
    tokens = service_tokens(settings)
    first = await tokens.token("acme", ["dsar:task"])
    assert await tokens.token("acme", ["dsar:task"]) == first
    claims = jwt.decode(first, "j" * 40, algorithms=["HS256"])
    assert (claims["sub"], claims["tenant"], claims["scope"]) == ("service:dsar", "acme", "dsar:task")
    assert await tokens.token("globex", ["dsar:task"]) != first


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, dict[str, Any]]]:
    published: dict[str, Any] = {"keys": []}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(published).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json", published
    finally:
        server.shutdown()


def issued(key: keys.Ed25519PrivateKey, kid: str, **claims: Any) -> str:
    now = int(time.time())
    base = {"sub": "system:crm", "tenant": "acme", "scope": "dsar:task", "iat": now, "exp": now + 300}
    return keys.sign(key, kid, base | {"jti": uuid.uuid4().hex} | claims, typ="at+jwt")


async def test_services_verify_eddsa_tokens_with_the_issuers_jwks(jwks_server: tuple[str, dict[str, Any]]) -> None:
    url, published = jwks_server
    key = keys.new_private_key()
    kid = keys.thumbprint_kid(key.public_key())
    published["keys"].append(keys.public_jwk(key, kid))
    verifier = TokenVerifier(None, jwks_url=url)
    principal = await verifier.verify(issued(key, kid))
    assert (principal.tenant_id, principal.subject, principal.scopes) == ("acme", "system:crm", {"dsar:task"})
    # A key the issuer never published, and HS256 without a development secret, are refused.
    stranger = keys.new_private_key()
    with pytest.raises(Unauthorized, match="No signing key"):
        await verifier.verify(issued(stranger, "unknown-kid"))
    hs = jwt.encode({"sub": "x", "tenant": "acme", "exp": int(time.time()) + 60}, "k" * 40, algorithm="HS256")
    with pytest.raises(Unauthorized, match="HS256"):
        await verifier.verify(hs)
