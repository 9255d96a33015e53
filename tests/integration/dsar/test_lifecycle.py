"""Deadlines as data: warnings once each, one extension with reasons, refusals, and code attempts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.events.topics import DSAR_EVENTS
from tests.integration.dsar.support import ADMIN, WRITE, Dsar, render, request_body, serve_dsar
from tests.support.stack import Infra, read_topic

pytestmark = pytest.mark.integration


async def test_deadline_job_warns_once_when_approaching_and_once_when_overdue(infra: Infra, topic_prefix: str) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        created = await dsar.open(request_body("access", verification="manual"))  # due 2 April 2026
        jobs = dsar.runtime.jobs
        assert await jobs.run_once("dsar.deadlines") == 0
        dsar.clock.advance(timedelta(days=25))  # 27 March: six days left
        assert await jobs.run_once("dsar.deadlines") == 1
        assert await jobs.run_once("dsar.deadlines") == 0
        assert (await dsar.request(created["id"]))["deadline"]["status"] == "approaching"
        dsar.clock.advance(timedelta(days=7))  # 3 April: overdue
        assert await jobs.run_once("dsar.deadlines") == 1
        assert await jobs.run_once("dsar.deadlines") == 0
        assert (await dsar.request(created["id"]))["deadline"]["status"] == "overdue"
        events = await read_topic(infra.broker.bootstrap, dsar.settings.topic(DSAR_EVENTS), expect=3)
        types = [dict(r.headers)["ce_type"].decode() for r in events]
        assert types == [
            "io.privops.dsar.request.received",
            "io.privops.dsar.deadline.approaching",
            "io.privops.dsar.deadline.overdue",
        ]


async def test_one_extension_with_reasons_before_the_first_deadline(infra: Infra, topic_prefix: str) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        created = await dsar.open(request_body("access"))
        reasons = {"reasons": "Twelve years of records across five systems must be searched."}
        extended = await dsar.client.post(f"/v1/requests/{created['id']}/extension", json=reasons, headers=ADMIN)
        assert extended.status_code == 200, extended.text
        deadline = extended.json()["deadline"]
        assert deadline["due_at"].startswith("2026-06-02T23:59:59")  # one month + two months (GDPR Art. 12(3))
        assert deadline["extended_by"] == "2 months"
        assert deadline["initial_due_at"].startswith("2026-04-02")
        again = await dsar.client.post(f"/v1/requests/{created['id']}/extension", json=reasons, headers=ADMIN)
        assert again.status_code == 409
        assert again.json()["type"].endswith("extension-already-used")
        notice = await dsar.claimed(created["id"], "dsar.extension")
        assert notice["context"]["due_at"].startswith("2026-06-02T23:59:59")
        assert (notice["context"]["extended_by_amount"], notice["context"]["extended_by_unit"]) == (2, "months")
        assert "Twelve years of records" in render(notice).text

        late = await dsar.open(request_body("erasure", verification="manual"))
        dsar.clock.advance(timedelta(days=40))
        refused = await dsar.client.post(f"/v1/requests/{late['id']}/extension", json=reasons, headers=ADMIN)
        assert refused.status_code == 409
        assert (await dsar.request(late["id"]))["deadline"]["extended_by"] is None


async def test_repeated_request_is_flagged_and_refused_with_the_right_to_complain(
    infra: Infra, topic_prefix: str
) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        first = await dsar.open(request_body("access", verification="manual"))
        assert first["repetition"]["flagged"] is False
        dsar.clock.advance(timedelta(days=3))
        second = await dsar.open(request_body("access", "uk-gdpr"))
        assert second["repetition"]["flagged"] is True
        assert "earlier access request" in second["repetition"]["reasons"][0]
        body = {"grounds": "manifestly_excessive", "reasons": "Same request three days ago, still being answered."}
        refused = await dsar.client.post(f"/v1/requests/{second['id']}/refusal", json=body, headers=ADMIN)
        assert refused.status_code == 200, refused.text
        result = refused.json()
        assert result["state"] == "refused"
        assert result["refusal"]["complaint"]["authority"] == "Information Commissioner's Office (ICO)"
        assert result["identifiers_purged"] is True
        again = await dsar.client.post(f"/v1/requests/{second['id']}/refusal", json=body, headers=ADMIN)
        assert again.status_code == 409
        verify = await dsar.client.post(
            f"/v1/requests/{second['id']}/verification/manual", json={"evidence_ref": "X"}, headers=ADMIN
        )
        assert verify.status_code == 409
        refusal = await dsar.claimed(second["id"], "dsar.refusal")  # queued before the identifiers were purged
        assert refusal["context"]["grounds_code"] == "manifestly_excessive"
        assert "complaint with Information Commissioner's Office" in render(refusal).text


async def test_wrong_codes_are_counted_and_lock_the_code(infra: Infra, topic_prefix: str) -> None:
    async with serve_dsar(infra, topic_prefix, verification_max_attempts=3) as dsar:
        created = await dsar.open(request_body("erasure"))
        code = await dsar.code_for(created["id"])
        wrong = "000000" if code != "000000" else "111111"
        url = f"/v1/requests/{created['id']}/verification/confirm"
        lefts = []
        for _ in range(3):
            response = await dsar.client.post(url, json={"code": wrong}, headers=WRITE)
            assert response.status_code == 422
            lefts.append(response.json()["attempts_left"])
        assert lefts == [2, 1, 0]
        locked = await dsar.client.post(url, json={"code": code}, headers=WRITE)
        assert locked.status_code == 409
        resent = await dsar.client.post(f"/v1/requests/{created['id']}/verification/code", headers=WRITE)
        assert resent.status_code == 200
        assert resent.json()["verification"]["attempts_left"] == 3
        new_code = await _second_code(dsar, created["id"])
        dsar.clock.advance(timedelta(minutes=31))
        expired = await dsar.client.post(url, json={"code": new_code}, headers=WRITE)
        assert expired.status_code == 410
        assert (await dsar.request(created["id"]))["state"] == "awaiting_verification"


async def _second_code(dsar: Dsar, request_id: str) -> str:
    codes = [m for m in await dsar.messages(request_id) if m["template"] == "dsar.verification_code"]
    assert len(codes) == 2
    return await dsar.code_for(request_id)
