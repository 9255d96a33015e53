"""Intake: a request is recorded with its legal clock, idempotently, and bad input changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.integration.dsar.support import ADMIN, READ, START, WRITE, request_body, serve_dsar
from tests.support.stack import Infra, auth

pytestmark = pytest.mark.integration


async def test_intake_records_the_clock_and_sends_a_code_and_bad_input_changes_nothing(
    infra: Infra, topic_prefix: str
) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        created = await dsar.open(request_body("access"))
        assert created["state"] == "awaiting_verification"
        assert created["identifier_kinds"] == ["email", "user_id"]
        # GDPR: one month from Monday 2 March 2026 → Thursday 2 April 2026, end of day.
        assert created["deadline"]["due_at"].startswith("2026-04-02T23:59:59")
        assert created["deadline"]["paused"] is False
        assert "ada@example.com" not in str(created).lower()  # ids are hex: "ada" alone can occur
        code = await dsar.code_for(created["id"])
        assert len(code) == 6

        bad = [
            ({**request_body(), "type": "delete_everything"}, 422),
            ({**request_body(), "jurisdiction": "mars-law"}, 422),
            ({**request_body(), "identifiers": []}, 422),
            ({**request_body(), "identifiers": [{"kind": "email", "value": "not-an-email"}]}, 422),
            ({**request_body(), "identifiers": [{"kind": "shoe_size", "value": "42"}]}, 422),
            (request_body("rectification"), 422),  # a rectification must name corrections
            ({**request_body(), "details": {"purposes": ["marketing"]}}, 422),  # purposes only for an objection
        ]
        for body, status in bad:
            response = await dsar.client.post("/v1/requests", json=body, headers=WRITE)
            assert response.status_code == status, (body, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["detail"]
            assert "not-an-email" not in response.text
        listed = await dsar.client.get("/v1/requests", headers=READ)
        assert [r["id"] for r in listed.json()] == [created["id"]]

        assert (await dsar.client.post("/v1/requests", json=request_body())).status_code == 401
        forbidden = await dsar.client.post("/v1/requests", json=request_body(), headers=READ)
        assert forbidden.status_code == 403
        other = await dsar.client.get(f"/v1/requests/{created['id']}", headers=auth("globex", "dsar:read"))
        assert other.status_code == 404


async def test_idempotency_key_returns_the_same_request_and_refuses_another_body(
    infra: Infra, topic_prefix: str
) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        headers = WRITE | {"Idempotency-Key": "form-123"}
        first = await dsar.client.post("/v1/requests", json=request_body(), headers=headers)
        again = await dsar.client.post("/v1/requests", json=request_body(), headers=headers)
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["id"] == again.json()["id"]
        other_body = await dsar.client.post("/v1/requests", json=request_body("access"), headers=headers)
        assert other_body.status_code == 422
        other_tenant = await dsar.client.post(
            "/v1/requests", json=request_body(), headers=auth("globex", "dsar:write") | {"Idempotency-Key": "form-123"}
        )
        assert other_tenant.status_code == 201
        assert other_tenant.json()["id"] != first.json()["id"]
        listed = await dsar.client.get("/v1/requests", headers=READ)
        assert len(listed.json()) == 1


async def test_uk_clock_waits_for_identity_and_restarts_on_verification(infra: Infra, topic_prefix: str) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        created = await dsar.open(request_body("access", "uk-gdpr", verification="manual"))
        assert created["deadline"]["paused"] is True
        assert created["deadline"]["status"] == "paused"
        dsar.clock.advance(__import__("datetime").timedelta(days=10))  # identity arrives on 12 March
        verified = await dsar.client.post(
            f"/v1/requests/{created['id']}/verification/manual", json={"evidence_ref": "PASSPORT-1"}, headers=ADMIN
        )
        assert verified.status_code == 200, verified.text
        body = verified.json()
        assert body["deadline"]["paused"] is False
        # The month runs again from 12 March: due Sunday 12 April → Monday 13 April 2026.
        assert body["deadline"]["due_at"].startswith("2026-04-13T23:59:59")
        assert body["verification"]["evidence_ref"] == "PASSPORT-1"
        # No system is registered: the request completes at once.
        assert body["state"] == "completed"
        again = await dsar.client.post(
            f"/v1/requests/{created['id']}/verification/manual", json={"evidence_ref": "X"}, headers=ADMIN
        )
        assert again.status_code == 409


async def test_the_list_filters_by_several_states_and_shows_each_request_as_read_alone(
    infra: Infra, topic_prefix: str
) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        waiting = await dsar.open(request_body("access", verification="manual"))
        verified = await dsar.open(request_body("rectification", verification="manual", details={
            "corrections": [{"field": "name", "new_value": "Ada L."}]
        }))  # fmt: skip
        answer = await dsar.client.post(
            f"/v1/requests/{verified['id']}/verification/manual", json={"evidence_ref": "PASSPORT-1"}, headers=ADMIN
        )
        assert answer.status_code == 200, answer.text
        cancelled = await dsar.open(request_body("access", verification="manual"))
        gone = await dsar.client.post(f"/v1/requests/{cancelled['id']}/cancel", json={"reason": "Sent twice"},
                                      headers=WRITE)  # fmt: skip
        assert gone.status_code == 200, gone.text

        states = {"state": ["awaiting_verification", "verified", "in_progress", "completed"]}
        listed = await dsar.client.get("/v1/requests", params=states, headers=READ)
        assert listed.status_code == 200, listed.text
        assert {r["id"] for r in listed.json()} == {waiting["id"], verified["id"]}
        for row in listed.json():  # the list's batched reads show what a read by id shows
            alone = await dsar.client.get(f"/v1/requests/{row['id']}", headers=READ)
            assert row == alone.json()
        one = await dsar.client.get("/v1/requests", params={"state": "cancelled"}, headers=READ)
        assert [r["id"] for r in one.json()] == [cancelled["id"]]
        too_long = await dsar.client.get("/v1/requests", params={"state": "x" * 40}, headers=READ)
        assert too_long.status_code == 422
        other = await dsar.client.get("/v1/requests", params=states, headers=auth("globex", "dsar:read"))
        assert other.json() == []


async def test_due_before_lists_what_falls_due_most_urgent_first(infra: Infra, topic_prefix: str) -> None:
    """A dashboard's "due this week": only what is due by then, overdue first, whatever the order of arrival."""
    async with serve_dsar(infra, topic_prefix) as dsar:
        ids = {}
        for name, days_ago in (("fresh", 0), ("oldest", 40), ("older", 25)):
            received = (START - timedelta(days=days_ago)).isoformat()
            ids[name] = (await dsar.open(request_body("access", verification="manual", received_at=received)))["id"]
        week = (START + timedelta(days=8)).isoformat()
        due = await dsar.client.get("/v1/requests", params={"due_before": week}, headers=READ)
        assert due.status_code == 200, due.text
        assert [r["id"] for r in due.json()] == [ids["oldest"], ids["older"]]
        dues = [datetime.fromisoformat(r["deadline"]["due_at"]) for r in due.json()]
        assert dues == sorted(dues) and all(d < START + timedelta(days=8) for d in dues)
        everything = await dsar.client.get("/v1/requests", headers=READ)
        assert everything.json()[0]["id"] == ids["fresh"]  # without it: newest first, as before
        naive = await dsar.client.get("/v1/requests", params={"due_before": "2026-03-10T00:00:00"}, headers=READ)
        assert naive.status_code == 422  # an instant needs its timezone


async def test_the_list_filters_orders_and_pages_in_the_service(infra: Infra, topic_prefix: str) -> None:
    """Type and jurisdiction filters, each order and pages by offset: a queue of any length, nothing dropped."""
    async with serve_dsar(infra, topic_prefix) as dsar:
        made = []  # (type, jurisdiction, days ago), received in this order
        for kind, law, days_ago in (
            ("access", "eu-gdpr", 30),
            ("erasure", "eu-gdpr", 20),
            ("access", "uk-gdpr", 10),
            ("access", "eu-gdpr", 5),
            ("erasure", "uk-gdpr", 1),
        ):
            received = (START - timedelta(days=days_ago)).isoformat()
            body = request_body(kind, law, verification="manual", received_at=received)
            made.append((await dsar.open(body))["id"])

        async def listed(**params: object) -> list[str]:
            response = await dsar.client.get("/v1/requests", params=params, headers=READ)
            assert response.status_code == 200, response.text
            return [r["id"] for r in response.json()]

        assert await listed(type="access", jurisdiction="eu-gdpr") == [made[3], made[0]]
        assert await listed(type=["access", "erasure"], jurisdiction="uk-gdpr") == [made[4], made[2]]
        assert await listed(order="due") == made  # the soonest due first: here, the first received
        assert await listed(order="type") == [made[0], made[2], made[3], made[1], made[4]]
        pages = [await listed(order="received", limit=2, offset=offset) for offset in (0, 2, 4)]
        assert pages == [[made[4], made[3]], [made[2], made[1]], [made[0]]]
        for bad in ({"order": "size"}, {"offset": -1}, {"type": "x" * 40}):
            assert (await dsar.client.get("/v1/requests", params=bad, headers=READ)).status_code == 422, bad
