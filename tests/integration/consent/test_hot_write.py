"""POST /v1/consents as a hot path: one autocommitted statement, the same record, event and audit entry as the route.

The route (FastAPI, ORM session) answers the first request of a token and anything the hot path does
not take; these tests compare the two, and show what the hot path leaves to the route.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text

from services.consent.service.hot import endpoints as hot_endpoints
from tests.integration.consent.conftest import ADA, WRITE, counts, hot_path_count
from tests.support.stack import RunningService, auth

pytestmark = pytest.mark.integration

BODY: dict[str, Any] = {
    "subject": ADA,
    "purpose": "newsletter",
    "decision": "granted",
    "channel": "web",
    "collector": "signup-form",
    "proof": {"ip": "203.0.113.9", "form_id": "signup-v2", "language": "fr"},
}


def hot(outcome: str) -> float:
    return hot_path_count("/v1/consents", outcome)


async def rows(svc: RunningService, sql: str) -> list[Any]:
    async with svc.runtime.database.session() as session:
        return list((await (await session.connection()).execute(text(sql))).all())


async def test_the_hot_path_writes_what_the_route_writes(consent: RunningService) -> None:
    token = auth("acme", "consent:write")  # never seen: the route verifies it and caches the purpose's rules
    served = hot("served")
    by_route = await consent.client.post("/v1/consents", json=BODY, headers=token)
    assert hot("served") == served
    consent.clock.advance(timedelta(seconds=1))
    by_hot_path = await consent.client.post("/v1/consents", json=BODY | {"decision": "withdrawn"}, headers=token)
    consent.clock.advance(timedelta(seconds=1))
    again = await consent.client.post("/v1/consents", json=BODY, headers=token)
    assert hot("served") == served + 2
    assert by_route.status_code == by_hot_path.status_code == again.status_code == 201, by_hot_path.text
    first, second, third = by_route.json(), by_hot_path.json(), again.json()
    assert set(first) == set(second) == set(third)
    moving = ("id", "decision", "expires_at", "occurred_at", "recorded_at")
    same = {k: v for k, v in first.items() if k not in moving}
    assert {k: v for k, v in second.items() if k not in moving} == same  # subject, proof, channel, source…
    assert {k: v for k, v in third.items() if k not in moving} == same
    assert (second["decision"], second["expires_at"]) == ("withdrawn", None)
    assert third["expires_at"].startswith("2029-03-02")  # a grant after a withdrawal: a new grant, not a renewal
    assert "203.0.113.9" not in str(second["proof"]) and second["proof"]["ip_hash"] == first["proof"]["ip_hash"]

    state = await rows(consent, "SELECT decision, record_id::text FROM consent_state")
    events = await rows(consent, "SELECT event_type, key FROM outbox ORDER BY id")
    audit = await rows(
        consent, "SELECT action, entity_id FROM audit_log WHERE entity_type = 'consent_record' ORDER BY id"
    )
    assert state == [("granted", third["id"])]
    assert [e for e, _ in events] == [f"io.privops.consent.{d}" for d in ("granted", "withdrawn", "granted")]
    assert len({key for _, key in events}) == 1  # one subject, one partition key
    assert audit == [
        (f"consent.{d}", r["id"])
        for d, r in zip(("granted", "withdrawn", "granted"), (first, second, third), strict=True)
    ]


async def test_a_grant_answering_a_grant_is_a_renewal_on_the_hot_path_too(consent: RunningService) -> None:
    for _ in range(3):
        response = await consent.client.post("/v1/consents", json=BODY, headers=WRITE)
        assert response.status_code == 201, response.text
    events = [e for (e,) in await rows(consent, "SELECT event_type FROM outbox ORDER BY id")]
    assert events == ["io.privops.consent.granted", "io.privops.consent.renewed", "io.privops.consent.renewed"]
    assert hot("served") >= 2


@pytest.mark.parametrize(
    ("change", "headers", "status"),
    [
        ({"purpose": "nope"}, {}, 422),  # not in the catalogue: never cached
        ({"decision": "maybe"}, {}, 422),  # refused by the schema
        ({"country": "FR", "age": 13}, {}, 422),  # a child without guardian consent (a rule of the domain)
        ({"tc_string": "not a tc string"}, {}, 422),
        ({}, {"Sec-GPC": "1"}, 201),  # GPC opt-outs are recorded by the route
        ({}, {"Content-Type": "text/plain"}, 422),  # the route's rule for other media types
    ],
    ids=["unknown-purpose", "schema", "child", "tc-string", "gpc", "media-type"],
)
async def test_what_the_hot_path_does_not_take_the_route_answers(
    consent: RunningService, change: dict[str, Any], headers: dict[str, str], status: int
) -> None:
    assert (await consent.client.post("/v1/consents", json=BODY, headers=WRITE)).status_code == 201  # warm up
    before = await counts(consent)
    declined = hot("declined")
    response = await consent.client.post("/v1/consents", json=BODY | change, headers=WRITE | headers)
    assert response.status_code == status, response.text
    assert hot("declined") == declined + 1
    if status == 422:
        assert response.headers["content-type"] == "application/problem+json"
        assert await counts(consent) == before  # nothing stored
    else:
        assert response.json()["gpc_opt_outs"] == ["ads.targeted", "sale"]


async def test_a_connection_lost_during_the_write_is_a_503_and_is_not_written_twice(
    consent: RunningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await consent.client.post("/v1/consents", json=BODY, headers=WRITE)).status_code == 201  # warm up
    before = await counts(consent)
    real_acquire, real_release = asyncpg.pool.Pool.acquire, asyncpg.pool.Pool.release
    calls = 0

    class Broken:
        async def fetchrow(self, *_: Any) -> None:
            nonlocal calls
            calls += 1
            raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")

    async def acquire(pool: asyncpg.Pool, *args: Any, **kwargs: Any) -> Any:
        await real_release(pool, await real_acquire(pool, *args, **kwargs))
        return Broken()

    monkeypatch.setattr(hot_endpoints.asyncpg.Pool, "acquire", acquire)
    monkeypatch.setattr(hot_endpoints.asyncpg.Pool, "release", lambda *_args, **_kw: _done())
    errors = hot("error")
    response = await consent.client.post("/v1/consents", json=BODY, headers=WRITE)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "history" in response.json()["detail"]
    assert (calls, hot("error")) == (1, errors + 1)  # one attempt, not repeated by the route
    assert await counts(consent) == before


async def _done() -> None:
    return None
