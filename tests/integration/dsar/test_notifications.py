"""Messages to subjects: claimed by the notify service only, in the subject's language, acknowledged once
where the law asks, and shown with what became of them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.events.catalogue.notifications import NotificationDelivered, NotificationFailed, NotificationSent
from shared.events.topics import NOTIFICATION_OUTCOMES, NOTIFICATIONS
from tests.integration.dsar.support import ADMIN, TENANT, WRITE, Dsar, render, request_body, serve_dsar
from tests.support.notifications import claim_headers, report_outcome
from tests.support.stack import Infra, auth, eventually, read_topic

pytestmark = pytest.mark.integration
CLAIM_FIELDS = {"notification_id", "channel", "template", "locale", "to", "to_name", "webhook_url", "context"}


async def _only_message(dsar: Dsar, request_id: str, template: str) -> dict[str, Any]:
    (message,) = [m for m in await dsar.messages(request_id) if m["template"] == template]
    return message


async def test_only_the_notify_service_claims_a_message_and_only_until_it_expires(
    infra: Infra, topic_prefix: str
) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        created = await dsar.open(request_body("access"))
        message = await _only_message(dsar, created["id"], "dsar.verification_code")
        assert message["state"] == "requested" and message["locale"] is None and message["claimed_at"] is None
        url = f"/v1/notifications/{message['id']}/claim"

        assert (await dsar.client.get(url)).status_code == 401
        for scope in ("dsar:read", "dsar:write", "dsar:admin", "dsar:notify", "notify:admin"):
            assert (await dsar.client.get(url, headers=auth(TENANT, scope))).status_code == 403, scope
        assert (await dsar.client.get(url, headers=claim_headers("globex"))).status_code == 404
        unknown = f"/v1/notifications/{uuid.uuid4()}/claim"
        assert (await dsar.client.get(unknown, headers=claim_headers(TENANT))).status_code == 404

        claimed = await dsar.client.get(url, headers=claim_headers(TENANT))
        assert claimed.status_code == 200, claimed.text
        body = claimed.json()
        assert set(body) == CLAIM_FIELDS
        assert body["notification_id"] == message["id"]
        assert (body["channel"], body["template"], body["locale"]) == ("email", "dsar.verification_code", None)
        assert (body["to"], body["to_name"], body["webhook_url"]) == ("ada@example.com", None, None)
        context = body["context"]
        assert set(context) == {"request_id", "request_type", "code", "expires_at"}
        assert (context["request_id"], context["request_type"]) == (created["id"], "access")
        assert context["expires_at"].startswith("2026-03-02T09:30:00")  # the code's 30 minutes
        # The context is all the template needs, in every language notify has.
        for locale in ("en", "fr"):
            assert context["code"] in render(body | {"locale": locale}).text
        assert (await _only_message(dsar, created["id"], "dsar.verification_code"))["claimed_at"]

        dsar.clock.advance(timedelta(minutes=31))  # a code's message lives as long as the code
        expired = await dsar.client.get(url, headers=claim_headers(TENANT))
        assert expired.status_code == 410
        assert expired.headers["content-type"].startswith("application/problem+json")


async def test_a_french_request_is_answered_in_french(infra: Infra, topic_prefix: str) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        created = await dsar.open(request_body("erasure", locale="FR"))
        assert created["locale"] == "fr"
        claimed = await dsar.claimed(created["id"], "dsar.verification_code")
        assert claimed["locale"] == "fr"
        message = render(claimed)
        assert message.locale == "fr"
        assert f"indiquez ce code : {claimed['context']['code']}" in message.text
        assert "effacement" in message.text
        assert (await dsar.messages(created["id"]))[0]["locale"] == "fr"

        english = await dsar.open(request_body("access", "uk-gdpr"))
        assert english["locale"] is None
        records = await read_topic(infra.broker.bootstrap, dsar.settings.topic(NOTIFICATIONS), expect=2)
        requested = [json.loads(r.value) for r in records]
        assert [r["template"] for r in requested] == ["dsar.verification_code"] * 2
        assert requested[0]["locale"] == "fr"
        assert requested[1]["locale"] is None  # no language given: notify uses the tenant's default
        assert "ada@example.com" not in str(requested).lower()


async def test_a_ccpa_request_is_acknowledged_once_on_receipt(infra: Infra, topic_prefix: str) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        headers = WRITE | {"Idempotency-Key": "ccpa-form-1"}
        first = await dsar.client.post("/v1/requests", json=request_body("access", "us-ca-ccpa"), headers=headers)
        assert first.status_code == 201, first.text
        created = first.json()
        deadline = created["deadline"]
        assert deadline["acknowledge_by"] is not None  # 10 business days, 11 CCR § 7021(a)
        assert deadline["acknowledged_at"].startswith("2026-03-02T09:00:00")
        assert sorted(m["template"] for m in await dsar.messages(created["id"])) == [
            "dsar.acknowledgement",
            "dsar.verification_code",
        ]
        claimed = await dsar.claimed(created["id"], "dsar.acknowledgement")
        context = claimed["context"]
        assert context["received_at"].startswith("2026-03-02T09:00:00")
        assert datetime.fromisoformat(context["due_at"]) == datetime.fromisoformat(deadline["due_at"])
        assert context["verification_needed"] is True
        assert created["id"] in render(claimed).text

        # A retried form, a new code, a later day: still one acknowledgement.
        again = await dsar.client.post("/v1/requests", json=request_body("access", "us-ca-ccpa"), headers=headers)
        assert (again.status_code, again.json()["id"]) == (200, created["id"])
        resent = await dsar.client.post(f"/v1/requests/{created['id']}/verification/code", headers=WRITE)
        assert resent.status_code == 200
        dsar.clock.advance(timedelta(days=3))
        templates = [m["template"] for m in await dsar.messages(created["id"])]
        assert templates.count("dsar.acknowledgement") == 1 and templates.count("dsar.verification_code") == 2
        assert (await dsar.request(created["id"]))["deadline"]["acknowledged_at"] == deadline["acknowledged_at"]

        manual = await dsar.open(request_body("erasure", "us-ca-ccpa", verification="manual"))
        assert (await dsar.claimed(manual["id"], "dsar.acknowledgement"))["context"]["verification_needed"] is False
        gdpr = await dsar.open(request_body("access"))
        opt_out = await dsar.open(request_body("objection", "us-ca-ccpa", details={"purposes": ["sale"]}))
        for unacknowledged in (gdpr, opt_out):  # no acknowledgement step in these rules
            assert unacknowledged["deadline"]["acknowledged_at"] is None
            assert "dsar.acknowledgement" not in [m["template"] for m in await dsar.messages(unacknowledged["id"])]
        no_email = {**request_body("access", "us-ca-ccpa"), "identifiers": [{"kind": "user_id", "value": "u-7"}]}
        owed = await dsar.open(no_email | {"verification": "manual"})
        assert owed["deadline"]["acknowledge_by"] and owed["deadline"]["acknowledged_at"] is None  # still owed

        records = await read_topic(infra.broker.bootstrap, dsar.settings.topic(NOTIFICATIONS), expect=6)
        acknowledgements = [r for r in records if json.loads(r.value)["template"] == "dsar.acknowledgement"]
        assert len(acknowledgements) == 2  # the access request's and the manual erasure's


async def test_outcomes_from_notify_show_on_the_request_messages(infra: Infra, topic_prefix: str) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        await dsar.wait_consumers_ready()
        first = await dsar.open(request_body("access"))
        second = await dsar.open(request_body("erasure", "uk-gdpr"))
        delivered = await _only_message(dsar, first["id"], "dsar.verification_code")
        bounced = await _only_message(dsar, second["id"], "dsar.verification_code")
        at = datetime(2026, 3, 2, 9, 0, 5, tzinfo=UTC)
        topic = dsar.settings.topic(NOTIFICATION_OUTCOMES)

        async def report(event: NotificationSent | NotificationDelivered | NotificationFailed) -> None:
            await report_outcome(infra.broker.bootstrap, topic, event, TENANT)

        def outcome(message: dict[str, Any], origin: str = "dsar", seconds: int = 0) -> dict[str, Any]:
            return {
                "notification_id": message["id"],
                "origin": origin,
                "channel": "email",
                "template": "dsar.verification_code",
                "attempts": 1,
                "at": at + timedelta(seconds=seconds),
            }

        # Another service's outcome for the same id is not DSAR's: it changes nothing, and DSAR's own, after it, does.
        await report(NotificationFailed(**outcome(delivered, origin="breach"), reason="550 not ours"))
        await report(NotificationSent(**outcome(delivered)))
        await report(NotificationDelivered(**outcome(delivered, seconds=1)))
        await report(NotificationSent(**outcome(delivered, seconds=2)))  # a late repeat moves nothing back
        await report(NotificationSent(**outcome(bounced)))
        await report(NotificationFailed(**outcome(bounced, seconds=30), reason="550 5.1.1 mailbox unavailable"))

        async def settled(request_id: str, state: str) -> dict[str, Any] | None:
            message = await _only_message(dsar, request_id, "dsar.verification_code")
            return message if message["state"] == state else None

        shown = await eventually(lambda: settled(first["id"], "delivered"))
        assert shown["sent_at"].startswith("2026-03-02T09:00:05")
        assert shown["delivered_at"].startswith("2026-03-02T09:00:06")
        assert (shown["failed_at"], shown["failure_reason"], shown["attempts"]) == (None, None, 1)
        failed = await eventually(lambda: settled(second["id"], "failed"))
        assert failed["failure_reason"] == "550 5.1.1 mailbox unavailable"
        assert failed["failed_at"].startswith("2026-03-02T09:00:35")
        # Delivered or given up: notify claims no more, so the address and the code are not kept.
        gone = await dsar.client.get(f"/v1/notifications/{delivered['id']}/claim", headers=claim_headers(TENANT))
        assert gone.status_code == 410
        other = await dsar.client.get(f"/v1/requests/{first['id']}/messages", headers=auth("globex", "dsar:read"))
        assert other.status_code == 404
        assert (await dsar.client.get(f"/v1/requests/{first['id']}/messages", headers=ADMIN)).status_code == 200
