"""A customer reads its notice with the notice's token, and its mail links to the portal's page for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from services.subprocessor.jobs import DELIVER_NOTICES
from shared.rules.clock import ManualClock
from tests.integration.subprocessor.receiver import WebhookReceiver
from tests.integration.subprocessor.test_change_lifecycle import READ, customer, post, subprocessor
from tests.support.stack import Infra, run_service

pytestmark = pytest.mark.integration
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_a_customer_reads_its_notice_then_objects(infra: Infra, topic_prefix: str) -> None:
    clock = ManualClock(START)
    settings = infra.settings(
        "subprocessor",
        infra.fresh_database("subprocessor"),
        topic_prefix,
        jobs_enabled=False,
        portal_url="https://privacy.example/",
    )
    receiver = WebhookReceiver(clock)
    await receiver.start()
    try:
        async with run_service("subprocessor", settings, clock) as svc:
            old = (await post(svc, "/v1/subprocessors", subprocessor("PostBox", "active", [{"country": "IE"}]))).json()
            new_body = subprocessor("MailRelay", "proposed", [{"country": "US", "mechanism": "sccs"}])
            new = (await post(svc, "/v1/subprocessors", new_body)).json()
            globex = await customer(svc, "globex", 30, f"{receiver.base_url}/globex", [old["id"]])
            receiver.secrets = {"/globex": globex["webhook_secret"]}
            change = {
                "kind": "replace",
                "subprocessor_id": new["id"],
                "replaces_id": old["id"],
                "summary": "MailRelay replaces PostBox.",
                "effective_at": (START + timedelta(days=31)).isoformat(),
            }
            proposed = await post(svc, "/v1/changes", change)
            assert proposed.status_code == 201, proposed.text
            notice_id = proposed.json()["notices"][0]["id"]
            assert await svc.runtime.jobs.run_once(DELIVER_NOTICES) == 1
            respond = receiver.received("/globex")[0].payload["respond"]

            # The page link names the tenant and the notice, and carries the token the API checks.
            page = urlsplit(respond["answer_url"])
            assert (page.netloc, page.path) == ("privacy.example", f"/p/acme/notices/{notice_id}")
            assert parse_qs(page.query)["token"] == [respond["token"]]

            path = f"/public/notices/{notice_id}"
            assert (await svc.client.get(path)).status_code == 401
            assert (await svc.client.get(path, headers={"X-Notice-Token": "x" * 40})).status_code == 404
            read = await svc.client.get(path, headers={"X-Notice-Token": respond["token"]})
            assert read.status_code == 200, read.text
            notice = read.json()
            assert notice["tenant"] == "acme" and notice["customer"] == "Globex"
            assert (notice["subprocessor"], notice["replaces"], notice["change_kind"]) == (
                "MailRelay",
                "PostBox",
                "replace",
            )
            assert notice["objection_allowed"] and notice["window_open"] and notice["objection"] is None
            assert notice["objection_deadline"].startswith("2026-04-01T09:00")

            objected = await post(svc, path + "/objection", {"reason": "No US."}, {"X-Notice-Token": respond["token"]})
            assert objected.status_code == 201, objected.text
            again = (await svc.client.get(path, headers={"X-Notice-Token": respond["token"]})).json()
            assert again["objection"]["reason"] == "No US." and again["objection"]["raised_via"] == "notice_link"
            assert (await svc.client.get(f"/v1/changes/{proposed.json()['id']}", headers=READ)).json()[
                "state"
            ] == "held"

            clock.advance(timedelta(days=31))
            late = (await svc.client.get(path, headers={"X-Notice-Token": respond["token"]})).json()
            assert late["window_open"] is False
    finally:
        await receiver.stop()
