"""People signing in to the console: OpenID Connect authorization code flow with PKCE, tokens, userinfo."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import cast
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from sqlmodel import col, select

from services.identity.jobs import PURGE
from shared.rules.clock import ManualClock
from shared.rules.roles import scopes_for
from shared.runtime.audit import AuditEntry
from tests.integration.identity.support import (
    CALLBACK,
    OTHER_CONSOLE,
    PEOPLE_CLIENTS,
    Pkce,
    add_person,
    authorize_params,
    bearer,
    code_of,
    exchange,
    identity,
    read_form,
    sign_in,
    verify_with_jwks,
)
from tests.support.stack import Infra, RunningService

pytestmark = pytest.mark.integration
DANA = "dana@acme.example"


async def audited(svc: RunningService, action: str) -> list[AuditEntry]:
    async with svc.runtime.database.session() as session:
        rows = await session.exec(select(AuditEntry).where(col(AuditEntry.action) == action))
        return list(rows.all())


async def test_a_person_signs_in_and_gets_the_scopes_of_their_roles(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    async with identity(infra, topic_prefix, tmp_path, PEOPLE_CLIENTS) as svc:
        user = await add_person(svc, "Dana@Acme.example", ["dpo", "auditor"])
        assert user["email"] == DANA and user["scopes"] == scopes_for(["dpo", "auditor"])
        pkce = Pkce()
        page = await svc.client.get("/authorize", params=authorize_params(pkce))
        assert page.headers["content-type"].startswith("text/html")
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert "<script" not in page.text
        form = read_form(page.text)
        assert form.action == "https://id.test/authorize"
        assert form.visible == {"email", "password"} <= form.labelled  # tenant fixed by this console: hidden
        assert form.fields["tenant"] == "acme" and form.fields["code_challenge"] == pkce.challenge

        code = code_of(await sign_in(svc, pkce, DANA))
        response = await exchange(svc, code, pkce)
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        access = await verify_with_jwks(svc, body["access_token"])
        assert access["sub"] == "user:dana@acme.example" and access["tenant"] == "acme"
        assert access["scope"] == " ".join(scopes_for(["dpo", "auditor"])) == body["scope"]
        assert (access["email"], access["name"], access["roles"]) == (DANA, "Dana Protection", ["auditor", "dpo"])
        assert access["client_id"] == "console"
        header = jwt.get_unverified_header(body["id_token"])
        assert (header["alg"], header["typ"]) == ("EdDSA", "JWT")
        id_token = await verify_with_jwks(svc, body["id_token"])
        assert (id_token["aud"], id_token["nonce"], id_token["sub"]) == ("console", "nonce-456", access["sub"])
        assert id_token["iss"] == "https://id.test" and id_token["auth_time"] <= id_token["iat"]

        bearer_header = {"Authorization": f"Bearer {body['access_token']}"}
        info = await svc.client.get("/userinfo", headers=bearer_header)
        assert info.status_code == 200
        assert info.json() == {
            "sub": "user:dana@acme.example",
            "tenant": "acme",
            "email": DANA,
            "name": "Dana Protection",
            "roles": ["auditor", "dpo"],
        }
        # The person's token opens what the roles give: reading people (identity:read), not adding one.
        assert (await svc.client.get("/v1/users", headers=bearer_header)).status_code == 200
        added = await svc.client.post("/v1/users", json={"email": "x@acme.example", "name": "X", "roles": ["auditor"]})
        assert added.status_code == 401
        added = await svc.client.post(
            "/v1/users", json={"email": "x@acme.example", "name": "X", "roles": ["auditor"]}, headers=bearer_header
        )
        assert added.status_code == 403
        assert len(await audited(svc, "login.succeeded")) == 1
        # A client's token is not a person's: userinfo refuses it.
        assert (await svc.client.get("/userinfo", headers=await bearer(svc, "acme-admin"))).status_code == 403

        meta = (await svc.client.get("/.well-known/openid-configuration")).json()
        assert meta["authorization_endpoint"] == "https://id.test/authorize"
        assert meta["userinfo_endpoint"] == "https://id.test/userinfo"
        assert meta["code_challenge_methods_supported"] == ["S256"]
        assert "authorization_code" in meta["grant_types_supported"]


async def test_a_wrong_password_is_refused_audited_and_limited(infra: Infra, topic_prefix: str, tmp_path: Path) -> None:
    async with identity(infra, topic_prefix, tmp_path, PEOPLE_CLIENTS) as svc:
        await add_person(svc, DANA, ["auditor"])
        pkce = Pkce()
        for attempt in range(5):
            refused = await sign_in(svc, pkce, DANA, "wrong password " + str(attempt))
            assert refused.status_code == 400 and "location" not in refused.headers
            assert "Wrong tenant, email or password." in refused.text
            assert read_form(refused.text).fields["email"] == DANA  # the form again, the address kept
        failures = await audited(svc, "login.failed")
        assert len(failures) == 5 and {f.detail["reason"] for f in failures} == {"password"}
        assert all(DANA not in str(f.detail) and DANA not in f.entity_id for f in failures)
        # The sixth attempt is refused before the password is looked at, the right one too.
        throttled = await sign_in(svc, pkce, DANA)
        assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
        assert len(await audited(svc, "login.throttled")) == 1
        # An unknown address fails the same way (no telling which accounts exist).
        unknown = await sign_in(svc, pkce, "nobody@acme.example")
        assert unknown.status_code == 400 and "Wrong tenant, email or password." in unknown.text

        cast(ManualClock, svc.clock).advance(timedelta(minutes=15))
        code_of(await sign_in(svc, pkce, DANA))  # the window has passed
        assert await svc.runtime.jobs.run_once(PURGE) >= 1  # the unknown address's failure, past its window later
        cast(ManualClock, svc.clock).advance(timedelta(minutes=16))
        assert await svc.runtime.jobs.run_once(PURGE) >= 1


async def test_pkce_mismatch_code_reuse_and_another_clients_code_are_refused(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    async with identity(infra, topic_prefix, tmp_path, PEOPLE_CLIENTS) as svc:
        await add_person(svc, DANA, ["auditor"])
        pkce = Pkce()
        code = code_of(await sign_in(svc, pkce, DANA))

        mismatch = await exchange(svc, code, Pkce())
        assert (mismatch.status_code, mismatch.json()["error"]) == (400, "invalid_grant")
        no_verifier = await exchange(svc, code, pkce, code_verifier="")
        assert (no_verifier.status_code, no_verifier.json()["error"]) == (400, "invalid_request")
        other = await exchange(svc, code, pkce, client=OTHER_CONSOLE, redirect_uri=CALLBACK)
        assert (other.status_code, other.json()["error"]) == (400, "invalid_grant")
        wrong_uri = await exchange(svc, code, pkce, redirect_uri=CALLBACK + "/elsewhere")
        assert wrong_uri.json()["error"] == "invalid_grant"
        not_console = await svc.client.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": CALLBACK,
                "code_verifier": "x" * 43,
            },
            headers=(await _basic("acme-admin")),
        )
        assert not_console.json()["error"] == "unauthorized_client"

        assert (await exchange(svc, code, pkce)).status_code == 200
        again = await exchange(svc, code, pkce)
        assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")  # a code works once

        late = code_of(await sign_in(svc, pkce, DANA))
        cast(ManualClock, svc.clock).advance(timedelta(seconds=svc.settings.code_ttl_s))  # type: ignore[attr-defined]
        assert (await exchange(svc, late, pkce)).json()["error"] == "invalid_grant"
        # A console cannot use client credentials: it signs people in.
        console = await svc.client.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, headers=await _basic("console")
        )
        assert console.json()["error"] == "unauthorized_client"


async def _basic(client_id: str) -> dict[str, str]:
    from tests.integration.identity.support import basic

    return basic(client_id)


async def test_bad_authorization_requests(infra: Infra, topic_prefix: str, tmp_path: Path) -> None:
    async with identity(infra, topic_prefix, tmp_path, PEOPLE_CLIENTS) as svc:
        pkce = Pkce()
        # Never redirected to: an unknown client, a redirect URI it did not register, a client that is no console.
        for changes in ({"client_id": "nobody"}, {"redirect_uri": "https://evil.test/cb"}, {"client_id": "acme-admin"}):
            page = await svc.client.get("/authorize", params=authorize_params(pkce, **changes))
            assert page.status_code == 400 and "location" not in page.headers, changes
            assert page.headers["content-type"].startswith("text/html")
        # Sent back to the console with the error: no PKCE, plain PKCE, an implicit flow, no openid scope.
        for changes, error in (
            ({"code_challenge": ""}, "invalid_request"),
            ({"code_challenge_method": "plain", "code_challenge": pkce.verifier}, "invalid_request"),
            ({"response_type": "token"}, "unsupported_response_type"),
            ({"scope": "profile"}, "invalid_scope"),
        ):
            answer = await svc.client.get("/authorize", params=authorize_params(pkce, **changes))
            assert answer.status_code == 303, (changes, answer.text)
            query = parse_qs(urlsplit(answer.headers["location"]).query)
            assert query["error"] == [error] and query["state"] == ["state-123"], changes
        # The hidden fields are checked again when the form comes back.
        page = await svc.client.get("/authorize", params=authorize_params(pkce))
        fields = read_form(page.text).fields | {"email": DANA, "password": "x", "redirect_uri": "https://evil.test/cb"}
        tampered = await svc.client.post("/authorize", data=fields)
        assert tampered.status_code == 400 and "location" not in tampered.headers
        fields |= {"redirect_uri": CALLBACK, "tenant": "globex"}
        other_tenant = await svc.client.post("/authorize", data=fields)
        assert other_tenant.status_code == 400 and "location" not in other_tenant.headers
