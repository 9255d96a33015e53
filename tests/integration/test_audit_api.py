"""The audit API of every service: the tenant's own entries with filters, and the chain's verification over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.rules.errors import PROBLEM_JSON
from tests.hardening.test_audit_tamper import tamper
from tests.support.stack import Infra, RunningService, auth, eventually, run_service

pytestmark = pytest.mark.integration
READER = ("acme", "retention:read")


@pytest.fixture
async def retention(infra: Infra, topic_prefix: str) -> AsyncIterator[RunningService]:
    settings = infra.settings("retention", infra.fresh_database("retention"), topic_prefix)
    async with run_service("retention", settings) as svc:
        yield svc


async def place_hold(svc: RunningService, tenant: str, matter: str) -> str:
    placed = await svc.client.post(
        "/v1/holds", json={"matter": matter, "reason": f"Case {matter}"}, headers=auth(tenant, "retention:write")
    )
    assert placed.status_code == 201, placed.text
    return str(placed.json()["id"])


async def test_a_reader_lists_its_tenants_entries_with_filters(retention: RunningService) -> None:
    acme = await place_hold(retention, "acme", "case-1")
    await place_hold(retention, "globex", "case-2")
    assert (await retention.client.get("/v1/audit")).status_code == 401
    wrong = await retention.client.get("/v1/audit", headers=auth("acme", "dsar:admin"))
    assert wrong.status_code == 403 and wrong.headers["content-type"].startswith(PROBLEM_JSON)
    listed = await retention.client.get("/v1/audit", headers=auth(*READER))
    assert listed.status_code == 200
    entries = listed.json()
    assert entries and all(e["entity_id"] != "" for e in entries)
    assert acme in {e["entity_id"] for e in entries} and "case-2" not in listed.text  # never globex's
    one = await retention.client.get("/v1/audit", params={"entity_id": acme, "limit": 1}, headers=auth(*READER))
    assert [e["entity_id"] for e in one.json()] == [acme]
    older = await retention.client.get("/v1/audit", params={"before": entries[-1]["id"]}, headers=auth(*READER))
    assert older.status_code == 200 and older.json() == []
    naive = await retention.client.get("/v1/audit", params={"since": "2026-01-01T00:00:00"}, headers=auth(*READER))
    assert naive.status_code == 422


async def test_the_verification_reports_an_intact_then_a_tampered_chain(retention: RunningService) -> None:
    await place_hold(retention, "acme", "case-1")
    await place_hold(retention, "acme", "case-3")

    async def all_sealed() -> list[dict[str, object]] | None:
        # The service's own seal job runs beside this one: whichever seals an entry, wait until every one is.
        await retention.runtime.jobs.run_once("audit.seal")
        entries: list[dict[str, object]] = (await retention.client.get("/v1/audit", headers=auth(*READER))).json()
        return entries if entries and all(e["seq"] is not None for e in entries) else None

    entries = await eventually(all_sealed)
    intact = await retention.client.get("/v1/audit/verification", headers=auth(*READER))
    assert intact.status_code == 200
    assert (intact.json()["ok"], intact.json()["checked"], intact.json()["problems"]) == (True, len(entries), [])
    assert entries[-1]["seq"] == 1
    await tamper(retention.settings.database_url, "UPDATE audit_log SET detail = '{\"forged\": true}' WHERE seq = 1")
    broken = (await retention.client.get("/v1/audit/verification", headers=auth(*READER))).json()
    assert broken["ok"] is False and any("seq 1: content does not match" in p for p in broken["problems"])
