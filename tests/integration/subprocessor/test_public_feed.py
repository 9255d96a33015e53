"""The public change feed: a 404 problem for a tenant that publishes nothing, and an honest <updated>."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import pytest

from services.subprocessor.jobs import APPLY_CHANGES
from shared.rules.clock import ManualClock
from tests.integration.breach.support import assert_problem
from tests.support.stack import Infra, RunningService, auth, run_service

pytestmark = pytest.mark.integration
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WRITE = auth("acme", "subprocessor:write")
A = "{http://www.w3.org/2005/Atom}"


def subprocessor(name: str, status: str) -> dict[str, object]:
    return {
        "name": name,
        "legal_entity": f"{name} Ltd",
        "service": "Email",
        "purposes": ["email"],
        "data_categories": ["contact_details"],
        "locations": [{"country": "IE"}],
        "status": status,
    }


async def feed(svc: RunningService, tenant: str = "acme") -> ET.Element:
    response = await svc.client.get(f"/public/{tenant}/subprocessors.atom")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    return ET.fromstring(response.content)


async def make_effective(svc: RunningService, clock: ManualClock, body: dict[str, object]) -> None:
    """Propose a change that affects no customer, and apply it once its date has come."""
    effective_at = clock.now() + timedelta(days=1)
    proposed = await svc.client.post(
        "/v1/changes", json=body | {"effective_at": effective_at.isoformat(), "customer_ids": []}, headers=WRITE
    )
    assert proposed.status_code == 201, proposed.text
    clock.advance(timedelta(days=2))
    assert await svc.runtime.jobs.run_once(APPLY_CHANGES) == 1


async def test_feed_of_unknown_tenant_is_404_and_updated_is_the_newest_time(infra: Infra, topic_prefix: str) -> None:
    clock = ManualClock(START)
    settings = infra.settings("subprocessor", infra.fresh_database("subprocessor"), topic_prefix, jobs_enabled=False)
    async with run_service("subprocessor", settings, clock) as svc:
        # Nothing published: no feed, as a problem document (a merely proposed subprocessor is not published).
        assert_problem(await svc.client.get("/public/nobody/subprocessors.atom"), 404)
        proposed = await svc.client.post("/v1/subprocessors", json=subprocessor("MailRelay", "proposed"), headers=WRITE)
        assert proposed.status_code == 201, proposed.text
        assert_problem(await svc.client.get("/public/acme/subprocessors.atom"), 404)

        # Published, no change yet: the feed is dated by its newest subprocessor.
        clock.advance(timedelta(hours=3))
        active = await svc.client.post("/v1/subprocessors", json=subprocessor("PostBox", "active"), headers=WRITE)
        assert active.status_code == 201, active.text
        empty = await feed(svc)
        assert empty.findall(f"{A}entry") == []
        assert datetime.fromisoformat(empty.findtext(f"{A}updated") or "") == START + timedelta(hours=3)
        assert_problem(await svc.client.get("/public/globex/subprocessors.atom"), 404)

        # With entries: the newest entry's time.
        await make_effective(svc, clock, {"kind": "add", "subprocessor_id": proposed.json()["id"], "summary": "Add"})
        first_at = clock.now()
        clock.advance(timedelta(hours=5))
        await make_effective(
            svc,
            clock,
            {
                "kind": "location_change",
                "subprocessor_id": active.json()["id"],
                "summary": "Moves",
                "locations": [{"country": "FR"}],
            },
        )
        second_at = clock.now()
        full = await feed(svc)
        entries = full.findall(f"{A}entry")
        times = [datetime.fromisoformat(e.findtext(f"{A}updated") or "") for e in entries]
        assert times == [second_at, first_at]
        assert datetime.fromisoformat(full.findtext(f"{A}updated") or "") == second_at
