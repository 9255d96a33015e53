"""Alerts to the privacy team: an escalation event becomes a mail and a signed webhook, once per threshold."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.notify.jobs import DELIVER
from shared.events.catalogue.breach import BreachNotificationDue
from tests.integration.notify.support import as_json, outcomes, parts, publish, smtp_server, stub_server
from tests.support.stack import Infra, auth, eventually, run_service

pytestmark = pytest.mark.integration

TENANT = "acme"
ADMIN = auth(TENANT, "notify:admin")
INCIDENT, DEADLINE = uuid.uuid4(), uuid.uuid4()


def due(hours: float) -> BreachNotificationDue:
    """The breach service's alert that the authority notice is due within ``hours``."""
    at = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
    return BreachNotificationDue(
        incident_id=INCIDENT,
        deadline_id=DEADLINE,
        jurisdiction="eu-gdpr",
        audience="authority",
        recipient="supervisory authority",
        due_at=at,
        target_at=at,
        citation="GDPR Art. 33(1)",
        hours_left=hours,
    )


async def test_an_alert_is_mailed_and_signed_once_per_threshold(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    with smtp_server(tmp_path) as smtp:
        async with stub_server() as stub:
            settings = infra.settings(
                "notify",
                infra.fresh_database("notify"),
                topic_prefix,
                jobs_enabled=False,
                service_urls={"breach": "https://breach.acme.example"},
                **smtp.settings(),
            )
            async with run_service("notify", settings) as svc:
                await svc.wait_consumers_ready()
                profile = {
                    "default_locale": "fr",
                    "alert_emails": ["dpo@acme.example"],
                    "alert_webhook_url": f"{stub.base_url}/hook",
                }
                response = await svc.client.put("/v1/profile", json=profile, headers=ADMIN)
                assert response.status_code == 200, response.text
                first_secret = response.json()["webhook_secret"]
                assert first_secret.startswith("whsec_")
                shown = (await svc.client.get("/v1/profile", headers=ADMIN)).json()
                assert shown["webhook_secret"] is None and shown["webhook_secrets_active"] == 1
                stub.secrets = [first_secret]

                async def alerts() -> list[dict[str, Any]]:
                    page = await svc.client.get("/v1/messages?kind=alert", headers=ADMIN)
                    items: list[dict[str, Any]] = page.json()["items"]
                    return items

                # The same threshold twice (a redelivery, a re-published alert): one mail and one webhook.
                for _ in range(2):
                    await publish(infra, topic_prefix, due(24), TENANT, "breach", str(INCIDENT))
                await eventually(lambda: _count(alerts, 2))
                assert await svc.runtime.jobs.run_once(DELIVER) == 2
                assert {(m["channel"], m["state"], m["origin"]) for m in await alerts()} == {
                    ("email", "delivered", "breach"),
                    ("webhook", "delivered", "breach"),
                }

                (mail,) = smtp.mails()
                assert "dpo@acme.example" in mail["To"]
                assert mail["Subject"].startswith("[ATTENTION] Notification de violation")
                text = parts(mail)["text/plain"]["content"]
                link = f"https://breach.acme.example/v1/incidents/{INCIDENT}/deadlines"
                assert link in text and "4 mars 2026" in text

                ((headers, body, verified),) = stub.webhooks
                assert verified, headers
                payload = as_json(body)
                assert payload["type"] == "alert.breach.notification.due"
                assert payload["data"]["context"]["incident_id"] == str(INCIDENT)
                assert payload["data"]["context"]["link"] == link

                # A rotation: the next webhook is signed with both secrets, so either one verifies it.
                rotated = await svc.client.post("/v1/profile/webhook-secret/rotate", headers=ADMIN)
                assert rotated.status_code == 200
                second_secret = rotated.json()["webhook_secret"]
                assert rotated.json()["webhook_secrets_active"] == 2
                stub.secrets = [first_secret, second_secret]
                await publish(infra, topic_prefix, due(4), TENANT, "breach", str(INCIDENT))
                await eventually(lambda: _count(alerts, 4))
                assert await svc.runtime.jobs.run_once(DELIVER) == 2
                assert [verified for _, _, verified in stub.webhooks] == [True, True]
                assert len(smtp.mails()) == 2
                assert smtp.mails()[1]["Subject"].startswith("[URGENT]")

                # Alerts were raised by notify: their outcomes do not go back to breach as its own.
                seen = await outcomes(infra, topic_prefix, expect=8)
                assert len(seen) == 8 and {e.origin for _, e in seen} == {"notify"}  # type: ignore[attr-defined]


async def _count(fetch: Any, expected: int) -> bool:
    return len(await fetch()) == expected
