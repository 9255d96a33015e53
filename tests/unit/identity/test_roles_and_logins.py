"""The role table, authorization requests, the failed sign-in limit and passwords."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from services.identity.domain.errors import InvalidUser
from services.identity.domain.logins import (
    AuthorizeError,
    UnsafeRedirect,
    authorize_request,
    check_password,
    error_redirect,
    redirect,
    retry_after,
)
from shared.rules import scopes
from shared.rules.roles import ROLES, UnknownRole, scopes_for

CALLBACK = "https://console.acme.example/callback"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_every_role_gives_known_scopes_and_no_special_one() -> None:
    for role, given in ROLES.items():
        assert not scopes.unknown(given), role
        assert not given & set(scopes.SPECIAL), role


def test_the_auditor_reads_everything_and_changes_nothing() -> None:
    assert set(scopes_for(["auditor"])) == {f"{s}:read" for s in scopes.SCOPED_SERVICES} | {scopes.EVIDENCE_READ}


def test_the_admin_alone_gives_access_to_others() -> None:
    assert "identity:admin" in scopes_for(["admin"])
    assert all(s.endswith(":admin") for s in scopes_for(["admin"]) if s != scopes.EVIDENCE_READ)
    assert [r for r, given in ROLES.items() if scopes.grants(given, "identity:write")] == ["admin"]


def test_the_evidence_pack_is_for_those_who_audit_and_the_admin() -> None:
    holders = [role for role, given in ROLES.items() if scopes.grants(given, scopes.EVIDENCE_READ)]
    assert holders == ["admin", "dpo", "auditor"]
    assert not scopes.grants(["dsar:admin", "identity:admin"], scopes.EVIDENCE_READ)  # not a service's level
    assert scopes.may_hand_out(["identity:admin"], scopes.EVIDENCE_READ)  # the admin gives it to an auditor
    assert not scopes.may_hand_out(["dsar:admin"], scopes.EVIDENCE_READ)


def test_the_dpo_decides_on_requests_but_does_not_grant_access() -> None:
    dpo = scopes_for(["dpo"])
    for needed in ("dsar:admin", "consent:admin", "retention:admin", "breach:admin", "subprocessor:write"):
        assert scopes.grants(dpo, needed), needed
    assert scopes.grants(dpo, "identity:read") and not scopes.grants(dpo, "identity:write")


def test_the_analyst_handles_requests_without_the_controllers_decisions() -> None:
    analyst = scopes_for(["privacy_analyst"])
    assert scopes.grants(analyst, "dsar:write") and not scopes.grants(analyst, "dsar:admin")
    assert scopes.grants(analyst, "consent:write") and not scopes.grants(analyst, "consent:admin")
    assert not scopes.grants(analyst, "identity:read")


def test_the_security_lead_runs_breaches_and_reads_the_rest() -> None:
    lead = scopes_for(["security_lead"])
    assert scopes.grants(lead, "breach:admin")
    assert all(scopes.grants(lead, f"{s}:read") for s in scopes.SCOPED_SERVICES)
    assert not [s for s in lead if s != "breach:admin" and not s.endswith(":read")]


def test_roles_add_up_and_unknown_ones_are_refused() -> None:
    # breach:read is implied
    assert scopes_for(["auditor", "security_lead"]) == sorted({*scopes_for(["security_lead"]), scopes.EVIDENCE_READ})
    assert scopes_for(["auditor", "privacy_analyst"]) == sorted(
        {f"{s}:read" for s in scopes.SCOPED_SERVICES if s not in ("dsar", "consent")}
        | {"dsar:write", "consent:write", scopes.EVIDENCE_READ}
    )
    with pytest.raises(UnknownRole):
        scopes_for(["root"])


def params(**changes: str) -> dict[str, str]:
    base = {
        "response_type": "code",
        "client_id": "console",
        "redirect_uri": CALLBACK,
        "scope": "openid email",
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    return {k: v for k, v in (base | changes).items() if v != ""}


def test_a_complete_request_is_accepted() -> None:
    request = authorize_request(params(), [CALLBACK])
    assert (request.client_id, request.state, request.nonce, request.scope) == (
        "console",
        "st-1",
        "n-1",
        "openid email",
    )
    assert request.hidden_fields()["code_challenge_method"] == "S256"


def test_an_unknown_client_or_redirect_is_never_redirected_to() -> None:
    with pytest.raises(UnsafeRedirect):
        authorize_request(params(), None)
    for uri in ("https://evil.example/callback", CALLBACK + "/x", CALLBACK + "?a=1", ""):
        with pytest.raises(UnsafeRedirect):
            authorize_request(params(redirect_uri=uri), [CALLBACK])


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "email"}, "invalid_scope"),
        ({"scope": "openid dsar:admin"}, "invalid_scope"),
        ({"code_challenge": ""}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": ""}, "invalid_request"),
        ({"nonce": "n" * 300}, "invalid_request"),
    ],
)
def test_other_errors_go_back_to_the_client(changes: dict[str, str], error: str) -> None:
    with pytest.raises(AuthorizeError) as caught:
        authorize_request(params(**changes), [CALLBACK])
    assert (caught.value.error, caught.value.state) == (error, "st-1")
    query = parse_qs(urlsplit(error_redirect(caught.value, "https://id.example")).query)
    assert query["error"] == [error] and query["state"] == ["st-1"] and query["iss"] == ["https://id.example"]


def test_the_redirect_keeps_the_registered_query() -> None:
    assert redirect("https://a.example/cb?x=1", "https://id", None, code="c") == (
        "https://a.example/cb?x=1&code=c&iss=https%3A%2F%2Fid"
    )


def test_five_failures_in_fifteen_minutes_lock_the_account_until_the_window_passes() -> None:
    window = timedelta(minutes=15)
    four = [NOW - timedelta(minutes=m) for m in (14, 10, 5, 1)]
    assert retry_after(four, NOW, window, 5) is None
    five = [*four, NOW]
    assert retry_after(five, NOW, window, 5) == timedelta(minutes=1)  # the oldest leaves the window then
    assert retry_after([*five, NOW - timedelta(minutes=20)], NOW, window, 5) == timedelta(minutes=1)
    assert retry_after(five, NOW + timedelta(minutes=1), window, 5) is None


def test_passwords_are_long_and_not_the_address() -> None:
    assert check_password("correct horse battery", "ada@example.com")
    for bad in ("short", "x" * 257, "Ada@Example.com  "):
        with pytest.raises(InvalidUser):
            check_password(bad, "ada@example.com")
