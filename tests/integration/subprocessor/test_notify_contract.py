"""Notice emails through the notify contract: the claim, and the outcomes that open an email-only customer's window."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.events.catalogue.notifications import NotificationDelivered, NotificationFailed, NotificationSent
from shared.events.topics import SUBPROCESSOR_EVENTS
from shared.rules.clock import ManualClock
from tests.integration.breach.support import assert_problem, produce
from tests.support.stack import Infra, RunningService, auth, eventually, read_topic, run_service

pytestmark = pytest.mark.integration
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WRITE = auth("acme", "subprocessor:write")
CLAIM = auth("acme", "notify:claim")
NOTIFY = "/privops/notify"


async def call(svc: RunningService, method: str, path: str, body: Any = None, headers: Any = WRITE) -> Any:
    response = await svc.client.request(method, path, json=body, headers=headers)
    assert response.status_code < 300, response.text
    return response.json()


async def proposed_change(svc: RunningService) -> dict[str, Any]:
    """An email-only customer with two contacts (one reads French) and a proposed new subprocessor."""
    entry = {
        "name": "MailRelay",
        "legal_entity": "MailRelay Ltd",
        "service": "Transactional email",
        "purposes": ["transactional_email"],
        "data_categories": ["contact_details"],
        "locations": [{"country": "IE"}],
        "status": "proposed",
    }
    sub = await call(svc, "POST", "/v1/subprocessors", entry)
    contacts = [{"email": "dpo@umbrella.example", "locale": "fr"}, {"email": "legal@umbrella.example"}]
    body = {"reference": "umbrella", "name": "Umbrella Corp", "notice_period_days": 15, "contacts": contacts}
    customer = await call(svc, "POST", "/v1/customers", body)
    assert [c["locale"] for c in customer["contacts"]] == ["fr", None]
    change = {
        "kind": "add",
        "subprocessor_id": sub["id"],
        "summary": "MailRelay sends our transactional email.",
        "effective_at": (START + timedelta(days=20)).isoformat(),
    }
    return dict(await call(svc, "POST", "/v1/changes", change))


def outcome(kind: type[Any], notification_id: str, at: datetime, origin: str = "subprocessor", **extra: Any) -> Any:
    return kind(
        notification_id=uuid.UUID(notification_id),
        origin=origin,
        channel="email",
        template="subprocessor.change_notice",
        attempts=1,
        at=at,
        **extra,
    )


async def test_an_email_only_customers_window_opens_when_its_email_is_delivered(
    infra: Infra, topic_prefix: str
) -> None:
    clock = ManualClock(START)
    settings = infra.settings("subprocessor", infra.fresh_database("subprocessor"), topic_prefix, jobs_enabled=False)
    async with run_service("subprocessor", settings, clock) as svc:
        await svc.wait_consumers_ready()
        change = await proposed_change(svc)
        notice = change["notices"][0]
        # Requested is not delivered: no window runs against a customer who may never get the mail.
        assert (notice["delivered_at"], notice["objection_deadline"]) == (None, None)
        assert any("no notice delivered" in r for r in change["blocking_reasons"])
        fr, other = (h["notification_id"] for h in notice["history"] if h["kind"] == "email")

        # The claim: notify's scope only, the tenant's own message only, the contract's shape.
        path = f"/v1/notifications/{fr}"
        assert_problem(await svc.client.get(path, headers=auth("acme", "subprocessor:read")), 403)
        assert_problem(await svc.client.get(path, headers=auth("globex", "notify:claim")), 404)
        claim = await call(svc, "GET", path, headers=CLAIM)
        respond_url = f"{svc.settings.public_url.rstrip('/')}/public/notices/{notice['id']}"
        context = claim.pop("context")
        assert claim == {
            "notification_id": fr,
            "channel": "email",
            "template": "subprocessor.change_notice",
            "locale": "fr",
            "to": "dpo@umbrella.example",
            "to_name": "Umbrella Corp",
            "webhook_url": None,
        }
        assert context.pop("respond_token")
        assert context == {
            "subprocessor": "MailRelay",
            "replaces": None,
            "change_kind": "add",
            "summary": "MailRelay sends our transactional email.",
            "effective_at": "2026-03-22T09:00:00Z",
            "notice_period_days": 15,
            "objection_allowed": True,
            "objection_deadline": None,
            "respond_url": respond_url,
            "answer_url": None,  # no portal set: the mail offers the API's answer only
            "notice_id": notice["id"],
            "customer": "Umbrella Corp",
        }
        assert (await call(svc, "GET", f"/v1/notifications/{other}", headers=CLAIM))["locale"] is None

        # Sent, then delivered (the same envelope twice, then the same fact under a new id); another service's
        # outcome for the same id is not ours; the other contact's mail bounces.
        delivered_at = START + timedelta(hours=3)
        await produce(svc, outcome(NotificationDelivered, fr, START, origin="breach"), source=NOTIFY)
        await produce(svc, outcome(NotificationSent, fr, START + timedelta(hours=1)), source=NOTIFY)
        await produce(svc, outcome(NotificationDelivered, fr, delivered_at), source=NOTIFY, times=2)
        await produce(svc, outcome(NotificationDelivered, fr, delivered_at), source=NOTIFY)
        bounce = "550 5.1.1 mailbox unknown"
        failed_at = START + timedelta(hours=4)
        await produce(svc, outcome(NotificationFailed, other, failed_at, reason=bounce), source=NOTIFY)

        async def settled() -> dict[str, Any] | None:
            seen = await call(svc, "GET", f"/v1/notices/{notice['id']}", headers=WRITE)
            return seen if any(h["outcome"] == "failed" for h in seen["history"]) else None

        seen = await eventually(settled)
        assert [(h["kind"], h["outcome"]) for h in seen["history"]] == [
            ("email", "requested"),
            ("email", "requested"),
            ("email", "sent"),
            ("email", "delivered"),
            ("delivered", "email"),
            ("email", "failed"),
        ]
        assert seen["history"][-1]["detail"]["reason"] == bounce
        assert (seen["delivered_at"], seen["delivered_via"]) == ("2026-03-02T12:00:00Z", "email")
        assert seen["objection_deadline"] == "2026-03-17T12:00:00Z"  # 15 days from the delivery, not the request
        assert (await call(svc, "GET", path, headers=CLAIM))["context"]["objection_deadline"] == (
            "2026-03-17T12:00:00Z"
        )
        window = await call(svc, "GET", f"/v1/changes/{change['id']}", headers=WRITE)
        assert not any("no notice delivered" in r for r in window["blocking_reasons"])

        records = await read_topic(settings.kafka_bootstrap_servers, settings.topic(SUBPROCESSOR_EVENTS), expect=2)
        types = [dict(r.headers)["ce_type"].decode() for r in records]
        assert types.count("io.privops.subprocessor.notice.sent") == 1
