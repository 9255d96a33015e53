"""Two replicas on one database: a catalogue change made through one is applied by the next write on the other.

The write path keeps each purpose's rules in memory; these tests show that a replica never records a
decision under rules it has not seen (validity, notices), and that a grant answering a grant in force is
still a renewal, with its event and audit entry.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from tests.integration.consent.conftest import ADMIN, PURPOSES, WRITE
from tests.support.stack import Infra, RunningService, run_service

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def two_replicas(infra: Infra, topic_prefix: str) -> AsyncIterator[tuple[RunningService, RunningService]]:
    """Two consent services sharing one database and one catalogue."""
    settings = infra.settings("consent", infra.fresh_database("consent"), topic_prefix)
    async with run_service("consent", settings) as first, run_service("consent", settings, first.clock) as second:
        for body in PURPOSES:
            assert (await first.client.post("/v1/purposes", json=body, headers=ADMIN)).status_code == 201
        yield first, second


async def grant(svc: RunningService, value: str, **extra: object) -> dict[str, object]:
    body = {"subject": {"kind": "email", "value": value}, "purpose": "newsletter", "decision": "granted"} | extra
    response = await svc.client.post("/v1/consents", json=body, headers=WRITE)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_validity_changed_on_another_replica_applies_to_the_next_grant(infra: Infra, topic_prefix: str) -> None:
    async with two_replicas(infra, topic_prefix) as (first, second):
        assert str((await grant(first, "a@example.com"))["expires_at"]).startswith("2029-03-02")  # P3Y, now cached
        patched = await second.client.patch("/v1/purposes/newsletter", json={"validity": "P1Y"}, headers=ADMIN)
        assert patched.status_code == 200, patched.text
        assert str((await grant(first, "b@example.com"))["expires_at"]).startswith("2027-03-02")


async def test_a_notice_published_on_another_replica_is_the_one_the_next_decision_rests_on(
    infra: Infra, topic_prefix: str
) -> None:
    async with two_replicas(infra, topic_prefix) as (first, second):
        assert (await grant(first, "a@example.com"))["notice_version"] is None  # no notice yet, now cached
        published = await second.client.post(
            "/v1/purposes/newsletter/notices", json={"text": "Monthly news."}, headers=ADMIN
        )
        assert published.status_code == 201, published.text
        assert (await grant(first, "b@example.com"))["notice_version"] == 1
        stale = {"subject": {"kind": "email", "value": "c@example.com"}, "purpose": "newsletter"}
        refused = await first.client.post(
            "/v1/consents", json=stale | {"decision": "granted", "notice_version": 2}, headers=WRITE
        )
        assert refused.status_code == 422


async def test_a_second_grant_is_a_renewal_with_its_event_and_audit_entry(infra: Infra, topic_prefix: str) -> None:
    async with two_replicas(infra, topic_prefix) as (first, second):
        await grant(first, "a@example.com")
        await grant(second, "a@example.com")
        async with first.runtime.database.session() as session:
            connection = await session.connection()
            events = (await connection.execute(text("SELECT event_type FROM outbox ORDER BY id"))).scalars().all()
            actions = (
                await connection.execute(text("SELECT action FROM audit_log WHERE entity_type = 'consent_record'"))
            ).scalars()
        assert events == ["io.privops.consent.granted", "io.privops.consent.renewed"]
        assert sorted(actions) == ["consent.granted", "consent.renewed"]
