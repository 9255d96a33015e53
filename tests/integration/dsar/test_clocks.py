"""Clocks that match the law: a request counts from the day it arrived, in the tenant's public holidays."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import pytest

from shared.events.topics import DSAR_EVENTS
from shared.rules.clock import ManualClock
from tests.integration.dsar.support import ADMIN, READ, WRITE, request_body, serve_dsar
from tests.support.stack import Infra, auth, read_topic, token

pytestmark = pytest.mark.integration

CLERK = {"Authorization": f"Bearer {token('acme', 'dsar:write', subject='clerk@acme.example')}"}
FRANCE = {"calendars": {"eu-gdpr": "FR"}}


async def test_a_request_received_last_week_counts_from_that_day(infra: Infra, topic_prefix: str) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:  # now: Monday 2 March 2026, 09:00 UTC
        body = request_body("access", channel="post", received_at="2026-02-23T10:00:00+01:00", verification="manual")
        created = await dsar.open(body, CLERK)
        # Received Mon 23 Feb 2026 + 1 month = Mon 23 March (GDPR Art. 12(3)), not Thu 2 April.
        assert created["deadline"]["due_at"].startswith("2026-03-23T23:59:59")
        assert created["received_at"].startswith("2026-02-23T09:00:00")
        assert created["entered_at"].startswith("2026-03-02T09:00:00")
        assert (created["entered_by"], created["channel"]) == ("clerk@acme.example", "post")
        assert "from receipt on 2026-02-23" in created["deadline"]["basis"]
        assert created["deadline"]["calendar"] is None  # no member state named: weekends only
        assert "weekends only, no public holidays" in created["deadline"]["basis"]

        now = await dsar.open(request_body("access", channel="Phone"))
        assert now["received_at"] == now["entered_at"]
        assert now["channel"] == "phone"
        events = await read_topic(infra.broker.bootstrap, dsar.settings.topic(DSAR_EVENTS), expect=2)
        received = {json.loads(r.value)["request_id"]: json.loads(r.value)["received_at"] for r in events}
        assert received[created["id"]].startswith("2026-02-23T09:00:00")


async def test_a_future_or_impossible_receipt_is_refused_and_nothing_is_stored(infra: Infra, topic_prefix: str) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        for received_at, status in [
            ("2026-03-02T09:06:00Z", 422),  # six minutes ahead of the service's clock
            ("2026-03-03T09:00:00+01:00", 422),
            ("1999-12-31T23:59:59Z", 422),
            ("2026-02-23T10:00:00", 422),  # no timezone
            ("last tuesday", 422),
        ]:
            response = await dsar.client.post("/v1/requests", json=request_body(received_at=received_at), headers=WRITE)
            assert response.status_code == status, (received_at, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert [e["field"] for e in response.json()["errors"]] == ["received_at"], response.text
        unknown_channel = await dsar.client.post("/v1/requests", json=request_body(channel="pigeon"), headers=WRITE)
        assert unknown_channel.status_code == 422
        assert (await dsar.client.get("/v1/requests", headers=READ)).json() == []
        # A client's clock a little ahead is tolerated: the clock starts now, never later.
        ahead = await dsar.open(request_body(received_at="2026-03-02T09:04:00Z"))
        assert ahead["received_at"].startswith("2026-03-02T09:00:00")


async def test_a_request_entered_after_its_deadline_is_overdue_at_once(infra: Infra, topic_prefix: str) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        # Received Thu 15 Jan 2026 + 1 month = Sun 15 Feb → Mon 16 Feb: two weeks late when entered on 2 March.
        late = await dsar.open(request_body("access", received_at="2026-01-15T11:00:00Z", verification="manual"))
        assert late["deadline"]["due_at"].startswith("2026-02-16T23:59:59")
        assert late["deadline"]["status"] == "overdue"
        # The UK clock waits for identity, but not once the deadline has passed: asking now does not stop it.
        uk = await dsar.open(
            request_body("access", "uk-gdpr", received_at="2026-01-15T11:00:00Z", verification="manual")
        )
        assert (uk["deadline"]["paused"], uk["deadline"]["status"]) == (False, "overdue")
        near = await dsar.open(request_body("access", received_at="2026-02-05T11:00:00Z", verification="manual"))
        assert near["deadline"]["status"] == "approaching"  # due Thu 5 March, three days left

        jobs = dsar.runtime.jobs
        assert await jobs.run_once("dsar.deadlines") == 3
        assert await jobs.run_once("dsar.deadlines") == 0
        events = await read_topic(infra.broker.bootstrap, dsar.settings.topic(DSAR_EVENTS), expect=6)
        types = Counter(dict(r.headers)["ce_type"].decode() for r in events)
        assert types == {
            "io.privops.dsar.request.received": 3,
            "io.privops.dsar.deadline.approaching": 1,
            "io.privops.dsar.deadline.overdue": 2,
        }
        verified = await dsar.client.post(
            f"/v1/requests/{late['id']}/verification/manual", json={"evidence_ref": "LETTER-7"}, headers=ADMIN
        )
        assert verified.status_code == 200, verified.text
        assert verified.json()["deadline"]["due_at"].startswith("2026-02-16T23:59:59")


async def test_settings_need_a_token_admin_to_write_and_belong_to_their_tenant(infra: Infra, topic_prefix: str) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        assert (await dsar.client.get("/v1/settings")).status_code == 401
        assert (await dsar.client.put("/v1/settings", json=FRANCE)).status_code == 401
        assert (await dsar.client.put("/v1/settings", json=FRANCE, headers=READ)).status_code == 403
        assert (await dsar.client.put("/v1/settings", json=FRANCE, headers=WRITE)).status_code == 403

        empty = await dsar.client.get("/v1/settings", headers=READ)
        assert empty.status_code == 200
        assert empty.json()["calendars"] == {} and empty.json()["updated_at"] is None
        in_use = empty.json()["calendars_in_use"]
        assert set(in_use) == {"eu-gdpr", "uk-gdpr", "us-ca-ccpa"}
        assert (in_use["eu-gdpr"]["code"], in_use["eu-gdpr"]["chosen"]) == (None, "default")
        assert (in_use["uk-gdpr"]["code"], in_use["us-ca-ccpa"]["code"]) == ("GB-ENG", "US-CA")

        body = {"calendars": {"eu-gdpr": "fr", "uk-gdpr": "GB-SCT"}}
        put = await dsar.client.put("/v1/settings", json=body, headers=ADMIN)
        assert put.status_code == 200, put.text
        assert put.json()["calendars"] == {"eu-gdpr": "FR", "uk-gdpr": "GB-SCT"}
        assert put.json()["calendars_in_use"]["eu-gdpr"] == {
            "code": "FR",
            "description": "public holidays of France (FR)",
            "chosen": "setting",
            "source": "Reg. 1182/71 Arts. 2(1), 3(4): the member state where the request is answered",
        }
        assert put.json()["updated_by"] == "privops-cli"

        for bad, where in [
            ({"calendars": {"eu-gdpr": "US-CA"}}, "calendars.eu-gdpr"),
            ({"calendars": {"uk-gdpr": "GB"}}, "calendars.uk-gdpr"),
            ({"calendars": {"br-lgpd": "BR"}}, "calendars.br-lgpd"),
            ({"calendars": {"mars-law": "FR"}}, "calendars.mars-law"),
            ({"calendars": {"eu-gdpr": "France"}}, "calendars.eu-gdpr"),
            ({"calendar": {"eu-gdpr": "FR"}}, "calendar"),
        ]:
            refused = await dsar.client.put("/v1/settings", json=bad, headers=ADMIN)
            assert refused.status_code == 422, (bad, refused.text)
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert where in [e["field"] for e in refused.json()["errors"]], refused.text
        kept = await dsar.client.get("/v1/settings", headers=READ)
        assert kept.json()["calendars"] == {"eu-gdpr": "FR", "uk-gdpr": "GB-SCT"}

        other = await dsar.client.get("/v1/settings", headers=auth("globex", "dsar:read"))
        assert other.json()["calendars"] == {}
        assert other.json()["calendars_in_use"]["uk-gdpr"]["code"] == "GB-ENG"


async def test_a_french_tenant_deadline_steps_over_french_holidays(infra: Infra, topic_prefix: str) -> None:
    clock = ManualClock(datetime(2026, 8, 12, 8, 0, tzinfo=UTC))
    async with serve_dsar(infra, topic_prefix, clock) as dsar:
        june_letter = "2026-06-14T16:00:00+02:00"  # a letter received on Sunday 14 June, entered in August
        before = await dsar.open(request_body("access", received_at=june_letter, verification="manual"))
        assert (await dsar.client.put("/v1/settings", json=FRANCE, headers=ADMIN)).status_code == 200
        after = await dsar.open(request_body("erasure", received_at=june_letter, verification="manual"))
        # 14 June + 1 month = Tuesday 14 July, the Fête nationale → Wednesday 15 July (Reg. 1182/71 Art. 3(4)).
        assert after["deadline"]["due_at"].startswith("2026-07-15T23:59:59")
        assert after["deadline"]["calendar"] == "FR"
        assert "a public holiday (National Day), moved to the next working day Wednesday" in after["deadline"]["basis"]
        assert "public holidays of France (FR)" in after["deadline"]["basis"]
        # The request opened before the setting keeps its date: nothing is recomputed behind the team's back.
        assert before["deadline"]["due_at"].startswith("2026-07-14T23:59:59")
        assert (await dsar.request(before["id"]))["deadline"]["due_at"].startswith("2026-07-14T23:59:59")

        fresh = await dsar.open(request_body("access", received_at="2026-08-11T09:00:00+02:00"))
        assert fresh["deadline"]["due_at"].startswith("2026-09-11T23:59:59")  # Friday 11 September
        reasons = {"reasons": "Twelve years of paper archives must be searched by hand."}
        extended = await dsar.client.post(f"/v1/requests/{fresh['id']}/extension", json=reasons, headers=ADMIN)
        assert extended.status_code == 200, extended.text
        # 11 August + 3 months = Wednesday 11 November, Armistice Day → Thursday 12 November.
        deadline = extended.json()["deadline"]
        assert deadline["due_at"].startswith("2026-11-12T23:59:59")
        assert "a public holiday (Armistice Day)" in deadline["basis"]
