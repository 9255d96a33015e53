"""A replacement walked end to end: proposal, signed notices, an objection and its resolution, effective."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from services.subprocessor.jobs import APPLY_CHANGES, DELIVER_NOTICES
from shared.events.catalogue.notifications import NotificationDelivered
from shared.events.topics import NOTIFICATIONS, SUBPROCESSOR_EVENTS
from shared.rules.clock import ManualClock
from tests.integration.breach.support import produce
from tests.integration.subprocessor.receiver import WebhookReceiver
from tests.support.pii import LogCapture, assert_no_personal_data, outbox_drained
from tests.support.stack import Infra, RunningService, auth, eventually, read_topic, run_service

pytestmark = pytest.mark.integration
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WRITE = auth("acme", "subprocessor:write")
READ = auth("acme", "subprocessor:read")


async def post(svc: RunningService, path: str, body: dict[str, Any], headers: dict[str, str] = WRITE) -> Any:
    return await svc.client.post(path, json=body, headers=headers)


def subprocessor(name: str, status: str, locations: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "name": name,
        "legal_entity": f"{name} Ltd",
        "service": "Transactional email",
        "purposes": ["transactional_email"],
        "data_categories": ["contact_details"],
        "locations": locations,
        "status": status,
    }


async def customer(svc: RunningService, reference: str, days: int, url: str | None, uses: list[str]) -> dict[str, Any]:
    body = {
        "reference": reference,
        "name": reference.title(),
        "notice_period_days": days,
        "webhook_url": url,
        "contacts": [{"email": f"DPO@{reference}.example", "role": "dpo"}],
        "subprocessor_ids": uses,
    }
    response = await post(svc, "/v1/customers", body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_replacement_from_proposal_to_effective(infra: Infra, topic_prefix: str) -> None:
    clock = ManualClock(START)
    settings = infra.settings(
        "subprocessor", infra.fresh_database("subprocessor"), topic_prefix, jobs_enabled=False, log_level="DEBUG"
    )
    receiver = WebhookReceiver(clock)
    await receiver.start()
    try:
        with LogCapture().active() as logs:
            async with run_service("subprocessor", settings, clock) as svc:
                await _walk(svc, receiver, clock, infra, settings.topic_prefix)
                # The contacts' addresses travel by claim check only: never on the bus, never in a log line.
                await outbox_drained(svc.runtime.database)
                contacts = [f"DPO@{name}.example" for name in ("globex", "initech", "umbrella", "hooli")]
                await assert_no_personal_data(infra.broker.bootstrap, topic_prefix, contacts, logs)
    finally:
        await receiver.stop()


async def _walk(svc: RunningService, receiver: WebhookReceiver, clock: ManualClock, infra: Infra, prefix: str) -> None:
    # The register: a location outside the EEA without a mechanism is refused, nothing is stored.
    bad = await post(svc, "/v1/subprocessors", subprocessor("Leaky", "proposed", [{"country": "US"}]))
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert "transfer mechanism" in bad.json()["detail"]
    old = (await post(svc, "/v1/subprocessors", subprocessor("PostBox", "active", [{"country": "IE"}]))).json()
    new_body = subprocessor("MailRelay", "proposed", [{"country": "DE"}, {"country": "US", "mechanism": "sccs"}])
    new = (await post(svc, "/v1/subprocessors", new_body)).json()
    assert [s["name"] for s in (await svc.client.get("/v1/subprocessors", headers=READ)).json()] == [
        "MailRelay",
        "PostBox",
    ]

    globex = await customer(svc, "globex", 30, f"{receiver.base_url}/globex", [old["id"]])
    initech = await customer(svc, "initech", 15, f"{receiver.base_url}/initech", [old["id"]])
    umbrella = await customer(svc, "umbrella", 15, None, [old["id"]])
    hooli = await customer(svc, "hooli", 15, None, [])
    receiver.secrets = {"/globex": globex["webhook_secret"], "/initech": initech["webhook_secret"]}
    receiver.fail_next["/initech"] = 1
    assert umbrella["webhook_secret"] is None

    # An effective date shorter than globex's 30 days is refused; nothing is created.
    change_body = {
        "kind": "replace",
        "subprocessor_id": new["id"],
        "replaces_id": old["id"],
        "summary": "MailRelay replaces PostBox.",
        "effective_at": (START + timedelta(days=20)).isoformat(),
    }
    too_early = await post(svc, "/v1/changes", change_body)
    assert too_early.status_code == 422, too_early.text
    assert too_early.json()["rule"] == "EffectiveDateTooEarly"
    assert "globex" in too_early.json()["detail"] or globex["id"] in too_early.json()["detail"]
    assert (await svc.client.get("/v1/changes", headers=READ)).json() == []

    change_body["effective_at"] = (START + timedelta(days=31)).isoformat()
    proposed = await post(svc, "/v1/changes", change_body)
    assert proposed.status_code == 201, proposed.text
    change = proposed.json()
    change_url = f"/v1/changes/{change['id']}"
    # ``state`` may be repeated: any of them (what a dashboard of open changes asks).
    open_states = {"state": ["noticed", "objection_window_open", "held"]}
    listed = await svc.client.get("/v1/changes", params=open_states, headers=READ)
    assert [c["id"] for c in listed.json()] == [change["id"]], listed.text
    assert (await svc.client.get("/v1/changes", params={"state": "effective"}, headers=READ)).json() == []
    notices = {n["customer_id"]: n for n in change["notices"]}
    assert set(notices) == {globex["id"], initech["id"], umbrella["id"]}
    content = notices[globex["id"]]["content"]
    assert content["subprocessor"]["locations"] == [
        {"country": "DE", "mechanism": None},
        {"country": "US", "mechanism": "sccs"},
    ]
    assert content["subprocessor"]["data_categories"] == ["contact_details"]
    assert content["replaces"]["name"] == "PostBox"
    assert content["objection"]["window_days"] == 30
    assert "object" in content["objection"]["how"]
    # Without a webhook, the email is the delivery: handing it to notify is not; notify's report that it arrived is.
    umbrella_notice = notices[umbrella["id"]]
    assert (umbrella_notice["delivered_at"], umbrella_notice["objection_deadline"]) == (None, None)
    await svc.wait_consumers_ready()
    await produce(
        svc,
        NotificationDelivered(
            notification_id=umbrella_notice["history"][0]["notification_id"],
            origin="subprocessor",
            channel="email",
            template="subprocessor.change_notice",
            attempts=1,
            at=START + timedelta(minutes=5),
        ),
        source="/privops/notify",
    )

    async def delivered() -> dict[str, Any] | None:
        notice = (await svc.client.get(f"/v1/notices/{umbrella_notice['id']}", headers=READ)).json()
        return notice if notice["delivered_via"] == "email" else None

    assert (await eventually(delivered))["objection_deadline"].startswith("2026-03-17T09:05")

    # The delivery job signs and posts; initech's endpoint fails once, then gets a retry after the backoff.
    assert await svc.runtime.jobs.run_once(DELIVER_NOTICES) == 2
    assert [d.verified for d in receiver.deliveries] == [True, True]
    clock.advance(timedelta(hours=2))
    assert await svc.runtime.jobs.run_once(DELIVER_NOTICES) == 1
    assert [(d.path, d.status) for d in receiver.received("/initech")] == [("/initech", 503), ("/initech", 200)]
    initech_notice = (await svc.client.get(f"/v1/notices/{notices[initech['id']]['id']}", headers=READ)).json()
    assert [(h["kind"], h["outcome"]) for h in initech_notice["history"]] == [
        ("email", "requested"),
        ("webhook", "failed"),
        ("webhook", "delivered"),
        ("delivered", "webhook"),
    ]
    assert initech_notice["delivered_at"].startswith("2026-03-02T11:00")
    assert initech_notice["objection_deadline"].startswith("2026-03-17T11:00")
    assert await svc.runtime.jobs.run_once(DELIVER_NOTICES) == 0

    # globex objects with the token its signed notice carried; an unaffected customer may not.
    globex_payload = receiver.received("/globex")[0].payload
    respond = globex_payload["respond"]
    assert globex_payload["objection_deadline"].startswith("2026-04-01T09:00")
    objection_path = respond["url"].removeprefix(svc.settings.public_url.rstrip("/")) + "/objection"
    unsigned = await post(svc, objection_path, {"reason": "no US"}, headers={})
    assert unsigned.status_code == 401
    objected = await post(
        svc, objection_path, {"reason": "We cannot accept US processing."}, {"X-Notice-Token": respond["token"]}
    )
    assert objected.status_code == 201, objected.text
    not_affected = await post(svc, f"{change_url}/objections", {"customer_id": hooli["id"], "reason": "x"})
    assert not_affected.status_code == 422
    assert not_affected.json()["rule"] == "CustomerNotAffected"
    initech_respond = receiver.received("/initech")[1].payload["respond"]
    ack_path = initech_respond["url"].removeprefix(svc.settings.public_url.rstrip("/")) + "/acknowledgement"
    ack = await post(svc, ack_path, {}, {"X-Notice-Token": initech_respond["token"]})
    assert ack.status_code == 200
    assert ack.json()["acknowledged_at"].startswith("2026-03-02T11:00")
    assert (await svc.client.get(change_url, headers=READ)).json()["state"] == "held"

    # Past every window: an objection now is too late, and the unresolved one still holds the change.
    clock.advance(timedelta(days=32))
    late = await post(svc, f"{change_url}/objections", {"customer_id": initech["id"], "reason": "late"})
    assert late.status_code == 422
    assert late.json()["rule"] == "ObjectionWindowClosed"
    assert "closed" in late.json()["detail"]
    assert await svc.runtime.jobs.run_once(APPLY_CHANGES) == 0
    held = (await svc.client.get(change_url, headers=READ)).json()
    assert any("unresolved objection" in reason for reason in held["blocking_reasons"])

    resolved = await post(
        svc,
        f"{change_url}/objections/{objected.json()['id']}/resolution",
        {"resolution": "alternative_arranged", "note": "Globex stays on PostBox."},
    )
    assert resolved.status_code == 200, resolved.text
    again = await post(svc, f"{change_url}/objections/{objected.json()['id']}/resolution", {"resolution": "withdrawn"})
    assert again.status_code == 422
    assert await svc.runtime.jobs.run_once(APPLY_CHANGES) == 1

    final = (await svc.client.get(change_url, headers=READ)).json()
    assert final["state"] == "effective"
    assert final["objections"][0]["resolution"] == "alternative_arranged"
    assert (await svc.client.get(f"/v1/customers/{initech['id']}", headers=READ)).json()["subprocessor_ids"] == [
        new["id"]
    ]
    assert (await svc.client.get(f"/v1/customers/{globex['id']}", headers=READ)).json()["subprocessor_ids"] == [
        old["id"]
    ]
    history = (await svc.client.get(f"/v1/subprocessors/{new['id']}/history", headers=READ)).json()
    assert [(h["version"], h["reason"], h["snapshot"]["status"]) for h in history] == [
        (1, "created", "proposed"),
        (2, "change.replace", "active"),
    ]

    # The public list and feed (no token) show what took effect, and only what is published.
    listed = (await svc.client.get("/public/acme/subprocessors.json")).json()
    assert {s["name"] for s in listed["subprocessors"]} == {"MailRelay", "PostBox"}
    relay = next(s for s in listed["subprocessors"] if s["name"] == "MailRelay")
    assert relay["locations"][1] == {"country": "US", "mechanism": "sccs"}
    assert "dpo@" not in json.dumps(listed).lower()
    assert (await svc.client.get("/public/globex/subprocessors.json")).json()["subprocessors"] == []
    feed = await svc.client.get("/public/acme/subprocessors.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    entries = ET.fromstring(feed.content).findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == 1
    assert "MailRelay" in (entries[0].findtext("{http://www.w3.org/2005/Atom}title") or "")

    await _check_events(infra, prefix, svc)


async def _check_events(infra: Infra, prefix: str, svc: RunningService) -> None:
    expected = {
        "io.privops.subprocessor.change.proposed": 1,
        "io.privops.subprocessor.notice.sent": 3,
        "io.privops.subprocessor.objection.received": 1,
        "io.privops.subprocessor.change.effective": 1,
    }
    records = await read_topic(infra.broker.bootstrap, prefix + SUBPROCESSOR_EVENTS, expect=6)
    types = [dict(r.headers)["ce_type"].decode() for r in records]
    assert {t: types.count(t) for t in expected} == expected
    effective = next(json.loads(r.value) for r in records if dict(r.headers)["ce_type"].endswith(b"effective"))
    assert sorted(effective["customer_ids"]) == ["initech", "umbrella"]
    mails = await read_topic(infra.broker.bootstrap, prefix + NOTIFICATIONS, expect=3)
    assert len(mails) == 3
    assert all(b"@" not in r.value for r in mails)
    claim_url = json.loads(mails[0].value)["claim_url"]
    claim_path = claim_url.removeprefix(svc.settings.public_url.rstrip("/"))
    assert (await svc.client.get(claim_path, headers=READ)).status_code == 403  # notify's scope only
    claimed = await svc.client.get(claim_path, headers=auth("acme", "notify:claim"))
    assert claimed.status_code == 200
    assert claimed.json()["to"].endswith(".example")
