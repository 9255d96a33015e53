"""Token claims, scope narrowing, tenants, PKCE and reading token requests."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from services.identity.domain import pkce
from services.identity.domain.errors import (
    InvalidClientAuth,
    InvalidDocument,
    InvalidRequest,
    InvalidScope,
    InvalidTarget,
)
from services.identity.domain.requests import client_credentials, parse_form
from services.identity.domain.tokens import (
    access_claims,
    check_document_type,
    document_claims,
    granted_scopes,
    id_token_claims,
    target_tenant,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_access_token_claims_follow_rfc9068_and_privops() -> None:
    claims = access_claims(
        issuer="https://id.example",
        subject="system:crm",
        tenant="acme",
        scopes=["dsar:task"],
        client_id="crm-store",
        now=NOW,
        ttl=timedelta(minutes=10),
        jti="abc",
        extra={"system": "crm"},
    )
    stamp = int(NOW.timestamp())
    assert claims == {
        "iss": "https://id.example",
        "sub": "system:crm",
        "tenant": "acme",
        "scope": "dsar:task",
        "iat": stamp,
        "nbf": stamp,
        "exp": stamp + 600,
        "jti": "abc",
        "client_id": "crm-store",
        "system": "crm",
    }


def test_id_token_claims_name_the_client_as_audience_and_echo_the_nonce() -> None:
    claims = id_token_claims(
        issuer="https://id.example",
        subject="user:ada@example.com",
        client_id="console",
        now=NOW,
        ttl=timedelta(minutes=10),
        auth_time=NOW - timedelta(seconds=5),
        nonce="n-1",
        extra={"email": "ada@example.com"},
    )
    assert claims["aud"] == "console" and claims["nonce"] == "n-1" and claims["auth_time"] < claims["iat"]
    assert "nonce" not in id_token_claims(
        issuer="i", subject="s", client_id="c", now=NOW, ttl=timedelta(1), auth_time=NOW, nonce=None, extra={}
    )


def test_scopes_are_narrowed_never_widened() -> None:
    assert granted_scopes(None, ["dsar:admin", "consent:read"]) == ["consent:read", "dsar:admin"]
    assert granted_scopes("dsar:read", ["dsar:admin", "consent:read"]) == ["dsar:read"]
    with pytest.raises(InvalidScope):
        granted_scopes("dsar:admin", ["dsar:write"])
    with pytest.raises(InvalidScope):
        granted_scopes("dsar:read billing:read", ["dsar:admin"])


def test_a_tenant_bound_client_gets_its_own_tenant_only() -> None:
    assert target_tenant("acme", None, str.isalnum) == "acme"
    assert target_tenant("acme", "acme", str.isalnum) == "acme"
    with pytest.raises(InvalidTarget):
        target_tenant("acme", "globex", str.isalnum)
    assert target_tenant("*", "globex", str.isalnum) == "globex"
    with pytest.raises(InvalidRequest):
        target_tenant("*", None, str.isalnum)
    with pytest.raises(InvalidRequest):
        target_tenant("*", "../x", str.isalnum)


def test_documents_get_the_tenant_issuer_and_an_explicit_type() -> None:
    signed = document_claims({"sub": "r-1"}, "https://id.example/tenants/acme", NOW)
    assert signed == {"sub": "r-1", "iss": "https://id.example/tenants/acme", "iat": int(NOW.timestamp())}
    assert document_claims({"iat": 5}, "i", NOW)["iat"] == 5
    with pytest.raises(InvalidDocument):
        document_claims({"iss": "https://id.example/tenants/globex"}, "https://id.example/tenants/acme", NOW)
    assert check_document_type("erasure-certificate+jwt") == "erasure-certificate+jwt"
    for bad in ("at+jwt", "JWT", "certificate", "x+jwt\n"):
        with pytest.raises(InvalidDocument):
            check_document_type(bad)


def test_pkce_s256_rfc7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert pkce.challenge_of(verifier) == challenge
    assert pkce.verifies(challenge, verifier)
    assert not pkce.verifies(challenge, verifier[:-1] + "l")
    assert not pkce.verifies(challenge, None)
    assert pkce.valid_challenge(challenge, "S256")
    assert not pkce.valid_challenge(challenge, "plain")
    assert not pkce.valid_challenge("short", "S256")


def test_token_requests_are_read_strictly() -> None:
    form = "application/x-www-form-urlencoded"
    assert parse_form(form, b"grant_type=client_credentials&scope=dsar%3Aread&tenant=") == {
        "grant_type": "client_credentials",
        "scope": "dsar:read",
    }
    with pytest.raises(InvalidRequest):
        parse_form(form, b"scope=a&scope=b")  # repeated (RFC 6749 §3.2)
    with pytest.raises(InvalidRequest):
        parse_form("application/json", b"{}")
    with pytest.raises(InvalidRequest):
        parse_form(form, b"\xff\xfe")


def test_client_credentials_come_from_basic_or_the_body() -> None:
    basic = "Basic " + base64.b64encode(b"shop%2Fbackend:s%3Acret").decode()
    assert client_credentials(basic, {}) == ("shop/backend", "s:cret")  # form-decoded (RFC 6749 §2.3.1)
    assert client_credentials(None, {"client_id": "shop", "client_secret": "s"}) == ("shop", "s")
    with pytest.raises(InvalidClientAuth):
        client_credentials(None, {"client_id": "shop"})
    with pytest.raises(InvalidClientAuth):
        client_credentials("Basic !!!", {})
    with pytest.raises(InvalidRequest):
        client_credentials(basic, {"client_id": "shop", "client_secret": "s"})  # two methods
