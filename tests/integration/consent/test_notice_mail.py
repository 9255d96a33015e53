"""End to end: a material notice change goes consent → broker → notify (claim over HTTP) → SMTP → the mailbox,
in each person's language, and notify's outcomes come back to the campaign."""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn

from services.notify.jobs import DELIVER
from tests.integration.consent.conftest import ADMIN, PURPOSES, READ, WRITE
from tests.integration.notify.support import parts, smtp_server
from tests.support.stack import Infra, auth, eventually, run_service

pytestmark = pytest.mark.integration


async def test_a_material_change_arrives_in_the_mailbox_and_is_counted_delivered(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    # The consent service must be reachable over a socket: notify claims each message at its public URL.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    public_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with smtp_server(tmp_path) as smtp:
        consent_settings = infra.settings(
            "consent", infra.fresh_database("consent"), topic_prefix, public_url=public_url
        )
        notify_settings = infra.settings(
            "notify", infra.fresh_database("notify"), topic_prefix, jobs_enabled=False, **smtp.settings()
        )
        async with (
            run_service("consent", consent_settings) as consent,
            run_service("notify", notify_settings) as notify,
        ):
            server = uvicorn.Server(uvicorn.Config(consent.app, lifespan="off", log_level="warning"))
            serving = asyncio.create_task(server.serve(sockets=[sock]))
            try:
                await consent.wait_consumers_ready()
                await notify.wait_consumers_ready()
                profile = {"sender_address": "privacy@acme.example", "brand_name": "Acmé", "default_locale": "en"}
                response = await notify.client.put("/v1/profile", json=profile, headers=auth("acme", "notify:admin"))
                assert response.status_code == 200, response.text
                newsletter = next(p for p in PURPOSES if p["key"] == "newsletter")
                assert (await consent.client.post("/v1/purposes", json=newsletter, headers=ADMIN)).status_code == 201
                v1 = {"title": "Newsletter", "text": "Weekly news."}
                assert (await consent.client.post("/v1/purposes/newsletter/notices", json=v1, headers=ADMIN)).is_success
                for name, language in (("ada", "fr"), ("grace", "en")):
                    body = {
                        "subject": {"kind": "email", "value": f"{name}@example.test"},
                        "purpose": "newsletter",
                        "decision": "granted",
                        "contact_email": f"{name}@example.test",
                        "proof": {"language": language},
                    }
                    assert (await consent.client.post("/v1/consents", json=body, headers=WRITE)).status_code == 201
                consent.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
                v2 = {"title": "Newsletter", "text": "Weekly news and offers.", "summary": "Offers.", "material": True}
                published = await consent.client.post("/v1/purposes/newsletter/notices", json=v2, headers=ADMIN)
                assert published.status_code == 201, published.text

                async def delivered() -> bool:
                    await notify.runtime.jobs.run_once(DELIVER)
                    return len(smtp.mails()) == 2

                assert await eventually(delivered, timeout=30)
                mails = {str(m["To"]): m for m in smtp.mails()}
                ada = next(m for to, m in mails.items() if "ada@example.test" in to)
                grace = next(m for to, m in mails.items() if "grace@example.test" in to)
                assert str(ada["Subject"]).startswith("Merci de confirmer votre consentement")
                assert str(grace["Subject"]).startswith("Please confirm your consent")
                text = parts(grace)["text/plain"]["content"]
                assert f"{public_url}/v1/public/tenants/acme/notices/newsletter/versions/1" in text
                assert "Offers." in text

                async def counted() -> bool:
                    path = "/v1/purposes/newsletter/notices/2/campaign"
                    campaign = (await consent.client.get(path, headers=READ)).json()
                    return bool(campaign["delivered"] == 2 and campaign["requested"] == 2)

                assert await eventually(counted, timeout=30)
            finally:
                server.should_exit = True
                await serving
                sock.close()
