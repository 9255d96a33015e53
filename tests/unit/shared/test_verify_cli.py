"""``privops verify``: a certificate checks with the public keys alone, a changed one does not."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from deploy.cli import app
from deploy.verify import jwks_location
from shared.rules import keys

runner = CliRunner()


def test_verify_accepts_the_document_and_refuses_a_changed_one(tmp_path: Path) -> None:
    key = keys.new_private_key()
    kid = keys.thumbprint_kid(key.public_key())
    claims = {"iss": "https://id.example.com/tenants/acme", "certificate_id": "c1", "outcome": "complete"}
    jws = keys.sign(key, kid, claims, typ="erasure-certificate+jwt")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [keys.public_jwk(key, kid)]}))
    answer = tmp_path / "certificate.json"
    answer.write_text(json.dumps({"certificate_id": "c1", "jws": jws}))

    result = runner.invoke(app, ["verify", str(answer), "--jwks", str(jwks)])
    assert result.exit_code == 0, result.output
    assert "valid erasure-certificate+jwt" in result.output and '"outcome": "complete"' in result.output

    header, _, signature = jws.split(".")
    forged = keys._b64url(json.dumps({**claims, "outcome": "partial"}).encode())
    changed = tmp_path / "changed.jws"
    changed.write_text(f"{header}.{forged}.{signature}")
    result = runner.invoke(app, ["verify", str(changed), "--jwks", str(jwks)])
    assert result.exit_code == 1
    assert "NOT VALID" in result.output


def test_the_keys_are_found_beside_the_issuer() -> None:
    key = keys.new_private_key()
    jws = keys.sign(key, "k1", {"iss": "http://127.0.0.1:8007/tenants/demo"})
    assert jwks_location(jws) == "http://127.0.0.1:8007/.well-known/privops/tenants/demo/jwks.json"
