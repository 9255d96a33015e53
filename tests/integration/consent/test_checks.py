"""Checks for product backends: reasons, read-your-writes, decision at time T, one-call withdrawal, GPC."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.consent.api import checks as checks_api
from services.consent.service.hot import endpoints as hot_endpoints
from tests.integration.consent.conftest import ADA, READ, WRITE, check, decide, hot_path_count
from tests.support.stack import RunningService, auth

pytestmark = pytest.mark.integration


async def test_each_reason_and_the_lawful_basis_default(consent: RunningService) -> None:
    await decide(consent, "newsletter", "granted")
    await decide(consent, "cookies.analytics", "denied")
    results = await check(consent, "newsletter", "cookies.analytics", "ads.targeted", "fraud", "invoicing")
    assert [(p, r["allowed"], r["reason"]) for p, r in results.items()] == [
        ("newsletter", True, "granted"),
        ("cookies.analytics", False, "denied"),
        ("ads.targeted", False, "no_record_default"),  # silence is not consent
        ("fraud", True, "no_record_default"),  # legitimate interest, no objection
        ("invoicing", True, "no_record_default"),  # legal obligation
    ]
    assert results["newsletter"]["expires_at"].startswith("2029-03-02")


async def test_a_withdrawal_is_visible_to_the_next_check(consent: RunningService) -> None:
    granted = await decide(consent, "newsletter", "granted")
    ref = granted["subject_ref"]
    fast = await consent.client.get("/v1/checks", params={"subject_ref": ref, "purpose": "newsletter"}, headers=READ)
    assert fast.json()["results"][0]["allowed"] is True
    await decide(consent, "newsletter", "withdrawn")
    fast = await consent.client.get("/v1/checks", params={"subject_ref": ref, "purpose": "newsletter"}, headers=READ)
    assert fast.json()["results"][0]["reason"] == "withdrawn"


async def test_an_older_decision_arriving_late_does_not_override_a_newer_one(consent: RunningService) -> None:
    await decide(consent, "newsletter", "withdrawn")
    await decide(consent, "newsletter", "granted", occurred_at="2026-03-01T09:00:00Z")
    assert (await check(consent, "newsletter"))["newsletter"]["reason"] == "withdrawn"


async def test_decision_at_a_past_instant(consent: RunningService) -> None:
    await decide(consent, "newsletter", "granted")
    consent.clock.advance(timedelta(days=10))  # type: ignore[attr-defined]
    await decide(consent, "newsletter", "withdrawn")
    then = await check(consent, "newsletter", at="2026-03-05T00:00:00Z")
    now = await check(consent, "newsletter")
    assert then["newsletter"]["reason"] == "granted" and now["newsletter"]["reason"] == "withdrawn"
    before = await check(consent, "newsletter", at="2026-01-01T00:00:00Z")
    assert before["newsletter"]["reason"] == "no_record_default"


async def test_withdraw_everything_in_one_call(consent: RunningService) -> None:
    for purpose in ("newsletter", "cookies.analytics", "ads.targeted"):
        await decide(consent, purpose, "granted")
    response = await consent.client.post(
        "/v1/consents/withdraw", json={"subject": ADA, "channel": "web"}, headers=WRITE
    )
    assert response.status_code == 200, response.text
    assert sorted(r["purpose"] for r in response.json()["withdrawn"]) == [
        "ads.targeted",
        "cookies.analytics",
        "newsletter",
    ]
    results = await check(consent, "newsletter", "cookies.analytics", "ads.targeted")
    assert {r["reason"] for r in results.values()} == {"withdrawn"}
    one = await consent.client.post(
        "/v1/consents/withdraw", json={"subject": ADA, "purposes": ["unknown"]}, headers=WRITE
    )
    assert one.status_code == 422


async def test_gpc_opts_out_of_covered_purposes_and_its_absence_is_never_consent(consent: RunningService) -> None:
    await decide(consent, "ads.targeted", "granted")
    with_signal = await consent.client.post("/v1/gpc", json={"subject": ADA}, headers=WRITE | {"Sec-GPC": "1"})
    assert with_signal.status_code == 200, with_signal.text
    body = with_signal.json()
    assert body["signal"] is True
    assert sorted(r["purpose"] for r in body["opted_out"]) == ["ads.targeted", "sale"]
    assert {r["proof"]["gpc"] for r in body["opted_out"]} == {"Sec-GPC: 1"}
    again = await consent.client.post("/v1/gpc", json={"subject": ADA}, headers=WRITE | {"Sec-GPC": "1"})
    assert again.json()["opted_out"] == []  # already opted out: nothing new
    without = await consent.client.post("/v1/gpc", json={"subject": ADA}, headers=WRITE)
    assert without.json() == {"subject_ref": body["subject_ref"], "signal": False, "opted_out": []}
    results = await check(consent, "ads.targeted", "sale", "newsletter")
    assert (results["ads.targeted"]["reason"], results["sale"]["reason"]) == ("denied", "denied")
    # A capture request carrying the header opts out too, beside the decision it records.
    recorded = await decide(
        consent, "newsletter", "granted", subject={"kind": "user_id", "value": "u-9"}, headers=WRITE | {"Sec-GPC": "1"}
    )
    assert sorted(recorded["gpc_opt_outs"]) == ["ads.targeted", "sale"]


async def test_a_grant_after_expiry_renews_the_validity(consent: RunningService) -> None:
    await decide(consent, "cookies.analytics", "granted")
    consent.clock.advance(timedelta(days=400))  # type: ignore[attr-defined]
    assert (await check(consent, "cookies.analytics"))["cookies.analytics"]["reason"] == "expired"
    renewed = await decide(consent, "cookies.analytics", "granted")
    assert renewed["expires_at"].startswith("2028-05-06")  # 13 months from the new answer
    assert (await check(consent, "cookies.analytics"))["cookies.analytics"]["allowed"] is True


def _hot_path_count(outcome: str) -> float:
    return hot_path_count("/v1/checks", outcome)


async def test_the_hot_path_answers_exactly_as_the_route_and_declines_the_rest(consent: RunningService) -> None:
    ref = (await decide(consent, "newsletter", "granted"))["subject_ref"]
    params = {"subject_ref": ref, "purpose": ["newsletter", "fraud"]}
    fresh = auth("acme", "consent:read")  # a token never seen: the route verifies it and fills the cache
    served, declined = _hot_path_count("served"), _hot_path_count("declined")
    by_route = await consent.client.get("/v1/checks", params=params, headers=fresh)
    assert (_hot_path_count("served"), _hot_path_count("declined")) == (served, declined + 1)
    by_hot_path = await consent.client.get("/v1/checks", params=params, headers=fresh)
    assert _hot_path_count("served") == served + 1
    assert by_hot_path.status_code == by_route.status_code == 200
    assert by_hot_path.headers["content-type"] == by_route.headers["content-type"] == "application/json"
    assert by_hot_path.json() == by_route.json()  # same clock: the same answer, byte for byte in JSON terms
    assert "x-correlation-id" in by_hot_path.headers

    # What the hot path does not accept reaches the route, which answers with its problem.
    other_scope = auth("acme", "dsar:read")
    cases = [
        ({"subject_ref": ref, "purpose": "nope"}, READ, 422),  # unknown purpose
        ({"subject_ref": "A" * 64, "purpose": "newsletter"}, READ, 422),  # not a subject reference
        ({"subject_ref": ref}, READ, 422),  # no purpose
        ({"subject_ref": ref, "purpose": ["newsletter"] * 101}, READ, 422),  # too many
        ({"subject_ref": ref, "purpose": "newsletter"}, other_scope, 403),
        ({"subject_ref": ref, "purpose": "newsletter"}, other_scope, 403),  # now cached: still 403
        ({"subject_ref": ref, "purpose": "newsletter"}, {}, 401),
        ({"subject_ref": ref, "purpose": "newsletter"}, {"Authorization": "Bearer x.y.z"}, 401),
    ]
    for query, headers, status in cases:
        response = await consent.client.get("/v1/checks", params=query, headers=headers)
        assert response.status_code == status, (query, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_the_hot_path_leaves_a_failure_to_the_route(
    consent: RunningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = (await decide(consent, "newsletter", "granted"))["subject_ref"]
    params = {"subject_ref": ref, "purpose": "newsletter"}
    assert (await consent.client.get("/v1/checks", params=params, headers=READ)).status_code == 200
    calls = 0
    real = checks_api.check_now

    async def fails_once(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionResetError("the check pool lost its connection")
        return await real(*args)

    monkeypatch.setattr(hot_endpoints, "check_now", fails_once)  # the hot path's call
    monkeypatch.setattr(checks_api, "check_now", fails_once)  # the route's
    errors = _hot_path_count("error")
    response = await consent.client.get("/v1/checks", params=params, headers=READ)
    assert response.status_code == 200, response.text  # answered by the route on its second try
    assert response.json()["results"][0]["reason"] == "granted"
    assert (calls, _hot_path_count("error")) == (2, errors + 1)
