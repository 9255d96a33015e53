"""DSAR to the privacy team, end to end: a manual task and a silent store's escalation become mails with a link."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from services.notify.jobs import DELIVER
from tests.integration.dsar.support import WRITE, serve_dsar
from tests.integration.dsar.test_tasks import register, the_tasks, verified_request
from tests.integration.notify.support import parts, smtp_server
from tests.support.stack import Infra, auth, eventually, run_service

pytestmark = pytest.mark.integration

NOTIFY_ADMIN = auth("acme", "notify:admin")
ARCHIVE = {"name": "Paper archive", "owner": "facilities", "manual": True, "instructions": "Room 3B, by surname."}


async def test_manual_tasks_and_silent_stores_reach_the_privacy_team(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    with smtp_server(tmp_path) as smtp:
        async with serve_dsar(infra, topic_prefix, task_max_attempts=1, task_ack_timeout_s=600) as dsar:
            settings = infra.settings(
                "notify",
                infra.fresh_database("notify"),
                topic_prefix,
                jobs_enabled=False,
                service_urls={"dsar": dsar.url},
                **smtp.settings(),
            )
            async with run_service("notify", settings) as notify:
                await notify.wait_consumers_ready()
                profile = {"default_locale": "en", "alert_emails": ["dpo@acme.example"]}
                assert (await notify.client.put("/v1/profile", json=profile, headers=NOTIFY_ADMIN)).status_code == 200

                async def alerts(expected: int) -> list[dict[str, Any]] | None:
                    page = await notify.client.get("/v1/messages?kind=alert", headers=NOTIFY_ADMIN)
                    items: list[dict[str, Any]] = page.json()["items"]
                    return items if len(items) == expected else None

                await register(dsar, "ghost", ["erase"])
                assert (await dsar.client.put("/v1/systems/archive", json=ARCHIVE, headers=WRITE)).status_code == 201
                request = await verified_request(dsar)
                tasks = await the_tasks(dsar, request["id"])

                # The manual task: the privacy team is asked to carry it out, with a link to the task.
                (manual,) = await eventually(lambda: alerts(1))
                assert (manual["template"], manual["origin"]) == ("alert.dsar.task.manual", "dsar")
                assert await notify.runtime.jobs.run_once(DELIVER) == 1

                # The silent store: its task is escalated by dsar's job, and that reaches the team too.
                dsar.clock.advance(timedelta(minutes=11))
                assert await dsar.runtime.jobs.run_once("dsar.task-redelivery") == 1
                both = await eventually(lambda: alerts(2))
                assert {m["template"] for m in both} == {"alert.dsar.task.manual", "alert.dsar.task.escalated"}
                assert await notify.runtime.jobs.run_once(DELIVER) == 1

                first, second = smtp.mails()
                assert "dpo@acme.example" in first["To"] and "dpo@acme.example" in second["To"]
                assert first["Subject"].startswith("[ACTION NEEDED]") and "by hand" in first["Subject"]
                text = parts(first)["text/plain"]["content"]
                assert f"{dsar.url}/v1/tasks/{tasks['archive']['id']}" in text
                assert second["Subject"] == f"[WARNING] System ghost has not answered a task of request {request['id']}"
                text = parts(second)["text/plain"]["content"]
                assert tasks["ghost"]["id"] in text and f"{dsar.url}/v1/requests/{request['id']}/tasks" in text
