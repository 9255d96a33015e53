"""Done when a high-risk breach's notice to individuals is approved and delivered per person: end to end,
through the notify service and the local stack's SMTP server (STARTTLS, AUTH), on the real broker."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from services.notify.jobs import DELIVER
from tests.integration.breach.support import INCIDENT, WRITER, serve_breach
from tests.integration.notify.support import parts, smtp_server
from tests.support.stack import Infra, RunningService, auth, eventually, run_service

pytestmark = pytest.mark.integration
H = auth("acme", *WRITER)
KEPT = "SELECT count(*) FROM affected_contact WHERE contact_enc IS NOT NULL"
PEOPLE = [
    {"email": "ada@example.com", "name": "Ada Lovelace", "locale": "fr"},
    {"email": "bob@example.com", "name": "Bob Smith", "locale": "en-GB"},
]


async def call(svc: RunningService, method: str, path: str, body: Any = None, status: int = 200, **kw: Any) -> Any:
    response = await svc.client.request(method, path, json=body, headers=kw.get("headers", H))
    assert response.status_code == status, response.text
    return response.json()


async def test_a_high_risk_notice_is_approved_and_delivered_per_person(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    with smtp_server(tmp_path) as smtp:
        async with serve_breach(infra, topic_prefix) as breach:
            settings = infra.settings(
                "notify", infra.fresh_database("notify"), topic_prefix, jobs_enabled=False, **smtp.settings()
            )
            async with run_service("notify", settings) as notify:
                await notify.wait_consumers_ready()
                await breach.wait_consumers_ready()
                incident = INCIDENT | {"role": "processor", "customers": ["cust-1"]}
                iid = (await call(breach, "POST", "/v1/incidents", incident, 201))["id"]
                decision = {"risk": "high_risk", "reason": "Order history with contact details: phishing is likely."}
                await call(breach, "POST", f"/v1/incidents/{iid}/decision", decision, 201)
                await call(breach, "POST", f"/v1/incidents/{iid}/affected-contacts", {"contacts": PEOPLE})
                draft = await call(breach, "POST", f"/v1/incidents/{iid}/notices", {"kind": "individuals"}, 201)

                # The customer's contact gets the link by mail, and approves there.
                await call(breach, "POST", f"/v1/notices/{draft['id']}/approval-request", None, 201)

                async def delivered(count: int) -> bool:
                    await notify.runtime.jobs.run_once(DELIVER)
                    return len(smtp.mails()) >= count

                await eventually(lambda: delivered(1))
                [to_customer] = smtp.mails()
                assert "privacy@globex.test" in to_customer["To"]
                assert to_customer["Subject"].startswith("Your approval is needed")
                body = parts(to_customer)["text/plain"]["content"]
                assert "What happened" in body and "We send this message on behalf of Globex privacy" in body
                link = re.search(r"http://127\.0\.0\.1:\d+/v1/public/notice-approvals/\S+", body)
                assert link is not None
                path = urlsplit(link.group(0)).path

                async def link_mailed() -> dict[str, Any] | None:
                    found = await call(breach, "GET", f"/v1/notices/{draft['id']}/approvals")
                    return found[0] if found[0]["mail_status"] == "delivered" else None

                assert (await eventually(link_mailed))["status"] == "pending"  # notify's outcome reached breach
                shown = await call(breach, "GET", path, headers={})
                assert shown["status"] == "pending" and "Ce qui s'est passé" in shown["bodies"]["fr"]
                await call(breach, "POST", path, {"decision": "approve", "name": "Grace Hopper"}, headers={})

                sent = await call(breach, "POST", f"/v1/notices/{draft['id']}/send", {})
                assert [d["status"] for d in sent["deliveries"]] == ["requested", "requested"]
                await eventually(lambda: delivered(3))
                mails = {m["To"]: m for m in smtp.mails()[1:]}
                assert set(mails) == {"Ada Lovelace <ada@example.com>", "Bob Smith <bob@example.com>"}
                ada = mails["Ada Lovelace <ada@example.com>"]
                reference = (await call(breach, "GET", f"/v1/incidents/{iid}"))["reference"]
                assert ada["Subject"] == f"Information importante sur vos données personnelles ({reference})"
                ada_text = parts(ada)["text/plain"]["content"]
                assert "Bonjour Ada Lovelace," in ada_text and "Ce que vous pouvez faire" in ada_text
                assert "au nom de Globex privacy" in ada_text and "What happened" not in ada_text
                bob_text = parts(mails["Bob Smith <bob@example.com>"])["text/plain"]["content"]
                assert "Hello Bob Smith," in bob_text and "What we are doing about it" in bob_text

                async def complete() -> dict[str, Any] | None:
                    found: dict[str, Any] = await call(breach, "GET", f"/v1/notices/{draft['id']}/deliveries")
                    return found if found["complete"] else None

                done = await eventually(complete)
                assert done["counts"]["delivered"] == 2 and done["total"] == 2
                async with breach.runtime.database.session() as session:
                    kept = (await session.exec(text(KEPT))).one()  # type: ignore[call-overload]
                assert kept == (0,)
                timeline = await call(breach, "GET", f"/v1/incidents/{iid}/timeline")
                kinds = [t["kind"] for t in timeline]
                assert {"notice.approved", "notice.deliveries_completed", "contacts.purged"} <= set(kinds)
