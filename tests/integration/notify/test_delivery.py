"""notify against the real PostgreSQL, broker and SMTP server: requested mail, retries, failures, bounces."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from services.notify.jobs import DELIVER
from shared.events.catalogue.notifications import (
    NotificationDelivered,
    NotificationFailed,
    NotificationRequested,
    NotificationSent,
)
from tests.integration.notify.support import Smtp, Stub, outcomes, parts, publish, smtp_server, stub_server
from tests.support.stack import Infra, RunningService, auth, eventually, run_service

pytestmark = pytest.mark.integration

TENANT, OTHER = "acme", "globex"
ADMIN = auth(TENANT, "notify:admin")
PROFILE = {
    "sender_address": "privacy@acme.example",
    "sender_name": "Acmé Vie Privée",
    "reply_to": "dpo@acme.example",
    "brand_name": "Acmé",
    "brand_colour": "#0f766e",
    "default_locale": "fr",
}
VERIFICATION = {"request_type": "erasure", "request_id": "R-42", "code": "482913", "expires_at": "2026-03-03T09:00:00Z"}


@dataclass
class World:
    """notify running beside a real SMTP server and a claim stub."""

    svc: RunningService
    smtp: Smtp
    stub: Stub
    infra: Infra
    prefix: str

    async def request(self, to: str, *, status: int = 200, locale: str | None = None, times: int = 1) -> uuid.UUID:
        """Publish a NotificationRequested from dsar whose claim answers ``status`` with a mail to ``to``."""
        notification_id = uuid.uuid4()
        body: dict[str, Any] = {
            "notification_id": str(notification_id),
            "channel": "email",
            "template": "dsar.verification_code",
            "locale": None,
            "to": to,
            "to_name": "Ada Lovelace",
            "context": VERIFICATION,
        }
        self.stub.claims[str(notification_id)] = (status, body)
        event = NotificationRequested(
            notification_id=notification_id,
            channel="email",
            template="dsar.verification_code",
            recipient_ref="a" * 64,
            claim_url=self.stub.claim_url(notification_id),
            locale=locale,
        )
        for _ in range(times):
            await publish(self.infra, self.prefix, event, TENANT, "dsar", "a" * 64)
        await eventually(lambda: self.message(notification_id))
        return notification_id

    async def message(self, notification_id: uuid.UUID, tenant: str = TENANT) -> dict[str, Any] | None:
        """The message as its API shows it, or None while it is unknown."""
        response = await self.svc.client.get(f"/v1/messages/{notification_id}", headers=auth(tenant, "notify:read"))
        return response.json() if response.status_code == 200 else None

    async def deliver(self) -> int:
        """Run the delivery job now."""
        return int(await self.svc.runtime.jobs.run_once(DELIVER))


@pytest.fixture
async def world(infra: Infra, topic_prefix: str, tmp_path: Path) -> AsyncIterator[World]:
    script = {"gone@example.test": ["550 5.1.1 <gone@example.test>: mailbox unavailable"]}
    script["busy@example.test"] = ["451 4.7.1 greylisted, try again later"]
    with smtp_server(tmp_path, script) as smtp:
        async with stub_server() as stub:
            settings = infra.settings(
                "notify",
                infra.fresh_database("notify"),
                topic_prefix,
                jobs_enabled=False,
                retry_base_s=60,
                **smtp.settings(),
            )
            async with run_service("notify", settings) as svc:
                await svc.wait_consumers_ready()
                response = await svc.client.put("/v1/profile", json=PROFILE, headers=ADMIN)
                assert response.status_code == 200, response.text
                yield World(svc, smtp, stub, infra, topic_prefix)


async def test_a_requested_mail_arrives_once_in_french_with_text_and_html(world: World) -> None:
    notification_id = await world.request("ada@example.test", times=2)  # the same request redelivered

    assert await world.deliver() == 1
    assert await world.deliver() == 0
    (mail,) = world.smtp.mails()
    assert mail["Subject"] == "Votre code de vérification"
    assert mail["Message-ID"] == f"<{notification_id}@privops>"
    assert mail["X-Privops-Notification"] == str(notification_id)
    assert "privacy@acme.example" in mail["From"] and "Acmé Vie Privée" in mail["From"]
    assert mail["Reply-To"] == "dpo@acme.example"
    assert "ada@example.test" in mail["To"]
    body = parts(mail)
    assert list(body) == ["text/plain", "text/html"]
    assert all(p["charset"] == "utf-8" and p["cte"] == "quoted-printable" for p in body.values())
    assert "482913" in body["text/plain"]["content"] and "effacement" in body["text/plain"]["content"]
    assert 'lang="fr"' in body["text/html"]["content"] and "Acmé" in body["text/html"]["content"]
    # The claim was fetched with notify's own scope, for the event's tenant.
    claims = {(t["scope"], t["tenant"], t["sub"]) for t in world.stub.tokens}
    assert claims == {("notify:claim", TENANT, "service:notify")}

    message = await world.message(notification_id)
    assert message is not None
    assert (message["state"], message["origin"], message["attempts"]) == ("delivered", "dsar", 1)
    assert message["history"][0]["smtp_code"] == 250
    seen = await outcomes(world.infra, world.prefix, expect=2)
    assert [(type(e), s, e.origin) for s, e in seen] == [  # type: ignore[attr-defined]
        (NotificationSent, str(notification_id), "dsar"),
        (NotificationDelivered, str(notification_id), "dsar"),
    ]

    # The provider reports a bounce later: the origin learns it failed.
    bounce = {"reason": "550 5.1.1 <ada@example.test> mailbox full", "smtp_code": 550}
    response = await world.svc.client.post(
        f"/v1/messages/{notification_id}/bounce", json=bounce, headers=auth(TENANT, "notify:write")
    )
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "bounced"
    failed = (await outcomes(world.infra, world.prefix, expect=3))[-1][1]
    assert isinstance(failed, NotificationFailed)
    assert "mailbox full" in failed.reason and "ada@" not in failed.reason


async def test_a_550_fails_with_its_reason_and_a_451_is_retried(world: World) -> None:
    refused = await world.request("gone@example.test")
    busy = await world.request("busy@example.test")

    assert await world.deliver() == 2
    failed, waiting = await world.message(refused), await world.message(busy)
    assert failed is not None and waiting is not None
    assert failed["state"] == "failed" and failed["last_error"].startswith("550 5.1.1")
    assert "gone@example.test" not in failed["last_error"]
    assert waiting["state"] == "retrying" and waiting["history"][0]["smtp_code"] == 451
    assert world.smtp.mails() == []

    assert await world.deliver() == 0  # not due yet
    world.svc.clock.advance(timedelta(minutes=2))  # type: ignore[attr-defined]
    assert await world.deliver() == 1
    delivered = await world.message(busy)
    assert delivered is not None
    assert (delivered["state"], delivered["attempts"]) == ("delivered", 2)
    assert [a["outcome"] for a in delivered["history"]] == ["transient", "sent"]
    assert len(world.smtp.mails()) == 1

    events = {(s, type(e).__name__) for s, e in await outcomes(world.infra, world.prefix, expect=3)}
    assert events == {
        (str(refused), "NotificationFailed"),
        (str(busy), "NotificationSent"),
        (str(busy), "NotificationDelivered"),
    }


async def test_a_withdrawn_claim_fails_without_retry_and_an_admin_can_retry_it(world: World) -> None:
    withdrawn = await world.request("ada@example.test", status=410)
    assert await world.deliver() == 1
    message = await world.message(withdrawn)
    assert message is not None
    assert (message["state"], message["attempts"]) == ("failed", 1)
    assert message["last_error"].startswith("claim answered 410")

    retry = await world.svc.client.post(
        f"/v1/messages/{withdrawn}/retry", json={"reason": "The request was restored."}, headers=ADMIN
    )
    assert retry.status_code == 200 and retry.json()["state"] == "queued"
    world.stub.claims[str(withdrawn)] = (200, world.stub.claims[str(withdrawn)][1])
    assert await world.deliver() == 1
    assert len(world.smtp.mails()) == 1
    again = await world.svc.client.post(f"/v1/messages/{withdrawn}/retry", json={"reason": "x"}, headers=ADMIN)
    assert again.status_code == 409


async def test_another_tenants_message_is_not_found(world: World) -> None:
    mine = await world.request("ada@example.test")
    other = auth(OTHER, "notify:admin")
    assert (await world.svc.client.get(f"/v1/messages/{mine}", headers=other)).status_code == 404
    retry = await world.svc.client.post(f"/v1/messages/{mine}/retry", json={"reason": "x"}, headers=other)
    assert retry.status_code == 404
    listed = (await world.svc.client.get("/v1/messages", headers=other)).json()
    assert listed["items"] == []
    own = (await world.svc.client.get("/v1/messages?origin=dsar&kind=requested", headers=ADMIN)).json()
    assert [m["id"] for m in own["items"]] == [str(mine)]
