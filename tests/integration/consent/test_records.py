"""Recording decisions: proof without raw identifiers, notices, children, TCF, bad input changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from tests.integration.consent.conftest import ADA, ADMIN, READ, WRITE, check, counts, decide
from tests.support.stack import RunningService, auth

pytestmark = pytest.mark.integration
# TCF v2 core strings (built like tests/unit/consent/test_tcf.py): consent to purposes 2+3, and to 1+2.
TC_WITHOUT_PURPOSE_1 = (
    "CP99dODP-ARZQEsAHDFRCWEoAGAAAEJAAAYgF5kUAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgBABAAAAQAA"
)
TC_WITH_PURPOSE_1 = (
    "CP99dODP-ARZQEsAHDFRCWEoAMAAAEJAAAYgF5kUAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgBABAAAAQAA"
)


async def test_a_decision_keeps_proof_but_no_raw_identifier(consent: RunningService) -> None:
    record = await decide(
        consent,
        "newsletter",
        "granted",
        channel="web",
        collector="signup-form",
        proof={"form_id": "signup-v3", "ip": "203.0.113.7", "user_agent": "Mozilla/5.0", "language": "en"},
    )
    assert record["proof"]["form_id"] == "signup-v3"
    assert "ip" not in record["proof"] and len(record["proof"]["ip_hash"]) == 64
    assert record["expires_at"].startswith("2029-03-02")  # P3Y from the injected clock
    async with consent.runtime.database.session() as session:
        dump = (await session.exec(text("SELECT row_to_json(r)::text FROM consent_record r"))).all()  # type: ignore[call-overload]
        events = (await session.exec(text("SELECT convert_from(payload, 'UTF8') FROM outbox"))).all()  # type: ignore[call-overload]
    assert "ada@example.com" not in str(dump).lower() and "203.0.113.7" not in str(dump)
    assert "ada@example.com" not in str(events).lower() and record["subject_ref"] in str(events)


async def test_records_are_append_only(consent: RunningService) -> None:
    await decide(consent, "newsletter", "granted")
    with pytest.raises(Exception, match="append-only"):
        async with consent.runtime.database.session() as session:
            await session.exec(text("UPDATE consent_record SET decision = 'denied'"))  # type: ignore[call-overload]


async def test_notice_versions_are_immutable_and_a_material_change_asks_for_renewal(consent: RunningService) -> None:
    v1 = await consent.client.post("/v1/purposes/newsletter/notices", json={"text": "Monthly news."}, headers=ADMIN)
    assert v1.status_code == 201 and v1.json()["version"] == 1
    granted = await decide(consent, "newsletter", "granted", notice_text_hash=v1.json()["text_hash"])
    assert granted["notice_version"] == 1 and granted["notice_text_hash"] == v1.json()["text_hash"]
    assert (await check(consent, "newsletter"))["newsletter"]["reason"] == "granted"
    consent.clock.advance(__import__("datetime").timedelta(days=1))  # type: ignore[attr-defined]
    v2 = await consent.client.post(
        "/v1/purposes/newsletter/notices", json={"text": "Weekly news and offers.", "material": True}, headers=ADMIN
    )
    assert v2.json()["version"] == 2
    assert (await check(consent, "newsletter"))["newsletter"]["reason"] == "needs_renewal"
    async with consent.runtime.database.session() as session:
        with pytest.raises(Exception, match="append-only"):
            await session.exec(text("UPDATE notice_version SET text_hash = 'x'"))  # type: ignore[call-overload]
    # Version 1 is no longer in force: a decision claiming it is refused, and nothing is stored.
    before = await counts(consent)
    stale = await consent.client.post(
        "/v1/consents",
        json={"subject": ADA, "purpose": "newsletter", "decision": "granted", "notice_version": 1},
        headers=WRITE,
    )
    assert stale.status_code == 422 and "notice_version" in stale.json()["detail"]
    assert await counts(consent) == before
    renewed = await decide(consent, "newsletter", "granted")
    assert renewed["notice_version"] == 2
    assert (await check(consent, "newsletter"))["newsletter"]["reason"] == "granted"


BAD_INPUT: list[tuple[dict[str, Any], str]] = [
    ({"purpose": "unknown-purpose"}, "unknown-purpose"),
    ({"subject": {"kind": "phone", "value": "06 12 34"}}, "invalid-identifier"),
    ({"notice_version": 7}, "unknown-notice-version"),
    ({"age": 12, "country": "FR"}, "guardian-consent-required"),
    ({"age": 12, "country": "FR", "guardian": {"consent": True}}, "guardian-consent-required"),
    ({"tc_string": "not a tc string!"}, "malformed-tc-string"),
    ({"purpose": "sale", "tc_string": TC_WITHOUT_PURPOSE_1}, "tcf-purpose-not-consented"),
    ({"notice_text_hash": "0" * 64, "notice_version": None}, "unknown-notice-version"),
]


@pytest.mark.parametrize(("change", "code"), BAD_INPUT, ids=[code + str(i) for i, (_, code) in enumerate(BAD_INPUT)])
async def test_bad_input_is_a_problem_and_stores_nothing(
    consent: RunningService, change: dict[str, Any], code: str
) -> None:
    if code == "unknown-notice-version" and "notice_text_hash" in change:
        change = {"notice_text_hash": "0" * 64, "notice_version": 1}
    body = {"subject": ADA, "purpose": "newsletter", "decision": "granted"} | change
    response = await consent.client.post("/v1/consents", json=body, headers=WRITE)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith(code)
    assert await counts(consent) == (0, 0)


async def test_a_tc_string_is_kept_verbatim_as_evidence(consent: RunningService) -> None:
    record = await decide(consent, "sale", "granted", tc_string=TC_WITH_PURPOSE_1)
    assert record["tc_string"] == TC_WITH_PURPOSE_1


async def test_a_child_needs_verified_guardian_consent(consent: RunningService) -> None:
    record = await decide(
        consent,
        "newsletter",
        "granted",
        age=12,
        country="FR",
        guardian={"consent": True, "verification_method": "payment_card"},
    )
    assert record["guardian"] == {"guardian_consent": True, "verification_method": "payment_card", "country": "FR"}
    adult = await decide(
        consent, "newsletter", "granted", age=16, country="FR", subject={"kind": "user_id", "value": "u2"}
    )
    assert adult["guardian"] is None


async def test_tenancy_and_scopes(consent: RunningService) -> None:
    record = await decide(consent, "newsletter", "granted")
    other = await consent.client.get(f"/v1/consents/{record['id']}", headers=auth("globex", "consent:read"))
    assert other.status_code == 404
    no_token = await consent.client.post("/v1/checks", json={"subject": ADA, "purposes": ["newsletter"]})
    assert no_token.status_code == 401
    forbidden = await consent.client.post(
        "/v1/purposes", json={"key": "x", "name": "x", "lawful_basis": "consent"}, headers=READ
    )
    assert forbidden.status_code == 403
    unknown_for_globex = await consent.client.post(
        "/v1/checks", json={"subject": ADA, "purposes": ["newsletter"]}, headers=auth("globex", "consent:read")
    )
    assert unknown_for_globex.status_code == 422  # globex has no such purpose: acme's catalogue is invisible


async def test_openapi_documents_every_endpoint_with_examples(consent: RunningService) -> None:
    schema = (await consent.client.get("/openapi.json")).json()
    paths = {p for p in schema["paths"] if p.startswith("/v1/")}
    assert {"/v1/purposes", "/v1/consents", "/v1/consents/withdraw", "/v1/checks", "/v1/gpc", "/v1/imports"} <= paths
    for name in ("PurposeIn", "ConsentIn", "WithdrawIn", "CheckIn", "GpcIn", "ImportIn", "NoticeIn", "ControllerIn"):
        assert schema["components"]["schemas"][name].get("examples"), name


async def test_a_notice_language_longer_than_a_language_tag_is_refused(consent: RunningService) -> None:
    tag = "en-" + "-".join(["abcdefgh"] * 4)  # a well-formed tag of 38 characters (found by fuzzing: was a 500)
    body = {"text": "Monthly news.", "language": tag}
    refused = await consent.client.post("/v1/purposes/newsletter/notices", json=body, headers=ADMIN)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
