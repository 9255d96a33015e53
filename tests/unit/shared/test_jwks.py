"""RS256 tokens from an identity provider, verified through its JWKS URL."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from shared.rules.errors import Unauthorized
from shared.runtime.auth import TokenVerifier

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    public = json.loads(RSAAlgorithm.to_jwk(KEY.public_key()))
    body = json.dumps({"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    server.shutdown()


def rs256(key: rsa.RSAPrivateKey, kid: str = "k1", **claims: object) -> str:
    now = datetime.now(UTC)
    base = {"sub": "idp-user", "tenant": "acme", "scope": "dsar:read", "exp": now + timedelta(minutes=5)}
    return jwt.encode({**base, **claims}, key, algorithm="RS256", headers={"kid": kid})


async def test_rs256_token_from_the_jwks_is_accepted(jwks_url: str) -> None:
    verifier = TokenVerifier("hs-secret-" + "h" * 32, jwks_url=jwks_url, audience="privops", issuer="https://idp")
    principal = await verifier.verify(rs256(KEY, aud="privops", iss="https://idp"))
    assert principal.tenant_id == "acme"
    assert principal.has_scope("dsar:read")


async def test_rs256_token_signed_by_another_key_or_for_another_audience_is_refused(jwks_url: str) -> None:
    verifier = TokenVerifier("hs-secret-" + "h" * 32, jwks_url=jwks_url, audience="privops", issuer="https://idp")
    with pytest.raises(Unauthorized):
        await verifier.verify(rs256(OTHER_KEY, aud="privops", iss="https://idp"))
    with pytest.raises(Unauthorized):
        await verifier.verify(rs256(KEY, aud="someone-else", iss="https://idp"))


async def test_rs256_is_refused_when_no_jwks_is_configured() -> None:
    with pytest.raises(Unauthorized, match="not accepted"):
        await TokenVerifier("hs-secret-" + "h" * 32).verify(rs256(KEY))
