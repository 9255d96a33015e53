"""Tokens and scopes, settings that fail fast, problem responses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import Depends, FastAPI
from pydantic import BaseModel

from services.consent.settings import ConsentSettings
from shared.rules.errors import Conflict, Unauthorized
from shared.runtime.auth import Principal, TokenVerifier, admin_scopes, issue_token, require
from shared.runtime.problems import install_problem_handlers
from shared.runtime.settings import SettingsError, load_settings

SECRET = "unit-test-secret-" + "s" * 32
NOW = datetime.now(UTC)


@pytest.mark.parametrize(
    ("held", "needed", "ok"),
    [
        ({"consent:read"}, "consent:read", True),
        ({"consent:write"}, "consent:read", True),
        ({"consent:admin"}, "consent:write", True),
        ({"consent:read"}, "consent:write", False),
        ({"dsar:admin"}, "consent:read", False),
        ({"consent:admin"}, "consent:export", False),
    ],
)
def test_scope_hierarchy(held: set[str], needed: str, ok: bool) -> None:
    assert Principal("acme", frozenset(held), "x").has_scope(needed) is ok


async def test_token_round_trip_and_rejections() -> None:
    verifier = TokenVerifier(SECRET)
    principal = await verifier.verify(issue_token(SECRET, "acme", admin_scopes(), now=NOW))
    assert principal.tenant_id == "acme"
    assert principal.has_scope("breach:write")
    from shared.rules.errors import Unauthorized

    with pytest.raises(Unauthorized, match="expired"):
        await verifier.verify(
            issue_token(SECRET, "acme", ["consent:read"], now=NOW - timedelta(days=1), ttl=timedelta(hours=1))
        )
    with pytest.raises(Unauthorized, match="invalid"):
        await verifier.verify(issue_token("x" * 40, "acme", ["consent:read"], now=NOW))
    with pytest.raises(ValueError, match="tenant"):
        issue_token(SECRET, "Not A Tenant", [], now=NOW)


def test_settings_fail_fast_naming_each_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "JWT_SECRET", "SUBJECT_HASH_KEY", "SIGNING_KEY"):
        monkeypatch.delenv(f"CONSENT_{name}", raising=False)
    monkeypatch.setenv("CONSENT_DATABASE_URL", "mysql://nope")
    monkeypatch.setenv("CONSENT_JWT_SECRET", "changeme")
    with pytest.raises(SettingsError) as caught:
        load_settings(ConsentSettings)
    message = str(caught.value)
    assert "CONSENT_DATABASE_URL: must be a postgresql+asyncpg:// URL" in message
    assert "CONSENT_JWT_SECRET: is a placeholder" in message
    assert "CONSENT_KAFKA_BOOTSTRAP_SERVERS: is required" in message
    assert "CONSENT_SUBJECT_HASH_KEY: is required" in message


def test_settings_read_their_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSENT_DATABASE_URL", "postgresql+asyncpg://u@h/consent")
    monkeypatch.setenv("CONSENT_KAFKA_BOOTSTRAP_SERVERS", "k:9092")
    for key in ("CLIENT_SECRET", "SUBJECT_HASH_KEY", "SIGNING_KEY"):
        monkeypatch.setenv(f"CONSENT_{key}", "k" * 40)
    monkeypatch.setenv("CONSENT_IDENTITY_URL", "http://identity:8007")
    monkeypatch.setenv("CONSENT_CLIENT_ID", "privops-consent")
    monkeypatch.setenv("DSAR_DATABASE_URL", "postgresql+asyncpg://u@h/dsar")
    settings = load_settings(ConsentSettings)
    assert settings.database_url.endswith("/consent")
    assert settings.service_name == "consent"
    assert settings.topic("privops.consent.events") == "privops.consent.events"
    assert settings.jwks_url == "http://identity:8007/.well-known/jwks.json"
    assert not settings.development_keys


def test_shared_hs256_secret_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSENT_DATABASE_URL", "postgresql+asyncpg://u@h/consent")
    monkeypatch.setenv("CONSENT_KAFKA_BOOTSTRAP_SERVERS", "k:9092")
    for key in ("JWT_SECRET", "SUBJECT_HASH_KEY", "SIGNING_KEY"):
        monkeypatch.setenv(f"CONSENT_{key}", "k" * 40)
    with pytest.raises(SettingsError, match="development option"):
        load_settings(ConsentSettings)
    monkeypatch.setenv("CONSENT_ENVIRONMENT", "local")
    assert load_settings(ConsentSettings).development_keys
    monkeypatch.delenv("CONSENT_JWT_SECRET")
    with pytest.raises(SettingsError, match="IDENTITY_URL"):
        load_settings(ConsentSettings)
    monkeypatch.setenv("CONSENT_IDENTITY_URL", "http://identity:8007")
    with pytest.raises(SettingsError, match="CLIENT_ID and CLIENT_SECRET"):
        load_settings(ConsentSettings)


class Item(BaseModel):
    name: str
    count: int


def problem_app() -> FastAPI:
    app = FastAPI()
    app.state.token_verifier = TokenVerifier(SECRET)
    install_problem_handlers(app)

    @app.post("/items")
    async def create(item: Item, _: Principal = Depends(require("consent:write"))) -> Item:
        if item.name == "dup":
            raise Conflict("An item with this name exists.")
        if item.name == "boom":
            raise RuntimeError("secret internals")
        return item

    return app


async def test_every_error_is_problem_json() -> None:
    transport = httpx.ASGITransport(app=problem_app(), raise_app_exceptions=False)
    headers = {"Authorization": f"Bearer {issue_token(SECRET, 'acme', ['consent:write'], now=NOW)}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        invalid = await client.post("/items", json={"name": "x", "count": "many"}, headers=headers)
        assert invalid.status_code == 422
        assert invalid.headers["content-type"] == "application/problem+json"
        assert invalid.json()["errors"][0]["field"] == "count"
        conflict = await client.post("/items", json={"name": "dup", "count": 1}, headers=headers)
        assert conflict.status_code == 409
        assert conflict.json()["type"].endswith("/conflict")
        crash = await client.post("/items", json={"name": "boom", "count": 1}, headers=headers)
        assert crash.status_code == 500
        assert "secret internals" not in crash.text
        missing = await client.get("/nowhere")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        wrong_method = await client.delete("/items")
        assert wrong_method.status_code == 405


async def test_a_cached_token_is_checked_again_once_expired(monkeypatch: pytest.MonkeyPatch) -> None:
    verifier = TokenVerifier(SECRET)
    calls = 0
    original = verifier._verify

    async def counting(token: str) -> Principal:
        nonlocal calls
        calls += 1
        return await original(token)

    monkeypatch.setattr(verifier, "_verify", counting)
    short = issue_token(SECRET, "acme", ["consent:read"], now=datetime.now(UTC), ttl=timedelta(minutes=1))
    await verifier.verify(short)
    await verifier.verify(short)
    assert calls == 1  # the second call came from the cache
    import time as time_module

    real = time_module.time
    monkeypatch.setattr(time_module, "time", lambda: real() + 3600)
    await verifier.verify(short)
    assert calls == 2  # past its expiry the cache no longer answers


@pytest.mark.parametrize(("sqlstate", "status"), [("22001", 422), ("22003", 422), ("23505", 500), (None, 500)])
async def test_database_value_errors_are_bad_input_however_the_driver_wrapped_them(
    sqlstate: str | None, status: int
) -> None:
    from sqlalchemy.exc import DBAPIError
    from starlette.requests import Request

    from shared.runtime.problems import render_error

    class DriverError(Exception):
        pass

    cause = DriverError("value too long for type character varying(35)")
    cause.sqlstate = sqlstate  # type: ignore[attr-defined]
    wrapped = DriverError("the driver's own wrapper")
    wrapped.__cause__ = cause
    request = Request({"type": "http", "method": "POST", "path": "/v1/x", "headers": [], "query_string": b""})
    response = await render_error(request, DBAPIError("INSERT …", {}, wrapped))
    assert response.status_code == status


async def test_an_ended_tenants_own_tokens_are_refused_even_cached() -> None:
    verifier = TokenVerifier(SECRET)
    now = datetime.now(UTC)
    own = issue_token(SECRET, "acme", ["dsar:admin"], now=now, subject="client:acme-admin")
    service = issue_token(SECRET, "acme", ["identity:sign"], now=now, subject="service:dsar")
    operator = issue_token(SECRET, "acme", ["dsar:admin"], now=now, subject="client:ops", extra={"platform": True})
    other = issue_token(SECRET, "globex", ["dsar:admin"], now=now, subject="client:globex-admin")
    for token in (own, service, operator, other):
        await verifier.verify(token)  # cached from now on
    verifier.ended_tenants = {"acme"}
    assert verifier.cached(own) is None
    with pytest.raises(Unauthorized, match="contract of this token's tenant has ended"):
        await verifier.verify(own)
    for token in (service, operator, other):  # privops' services, the platform's clients, other tenants
        assert (await verifier.verify(token)).subject
