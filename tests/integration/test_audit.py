"""The audit log is hash-chained: any edit, deletion or reordering of a sealed row is detected."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import ARRAY, BigInteger, String, bindparam, text
from sqlalchemy.exc import DBAPIError

from shared.rules.clock import ManualClock
from shared.runtime import audit
from shared.runtime.db import Database
from tests.support.stack import Infra

pytestmark = pytest.mark.integration
CLOCK = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
async def database(infra: Infra) -> AsyncIterator[Database]:
    db = Database(infra.fresh_database("breach"), pool_size=2)
    async with db.session() as session:
        for i in range(6):
            audit.record(
                session,
                tenant_id="acme",
                actor="dpo@acme",
                action="incident.updated",
                entity_type="incident",
                entity_id=i,
                clock=CLOCK,
                detail={"step": i},
            )
    async with db.session() as session:
        assert await audit.seal(session) == 6
    yield db
    await db.dispose()


FILL = """
INSERT INTO audit_log (tenant_id, occurred_at, actor, action, entity_type, entity_id, detail)
SELECT 'acme', now(), 'job', 'bulk', 't', n::text, '{}'::jsonb FROM generate_series(1, 50000) AS n
"""


async def verify(db: Database) -> audit.VerifyReport:
    async with db.session() as session:
        return await audit.verify(session)


async def tamper(db: Database, sql: str) -> None:
    """What a superuser with direct database access could do: bypass the append-only trigger."""
    async with db.session() as session:
        await session.exec(text("SET LOCAL session_replication_role = replica"))  # type: ignore[call-overload]
        for statement in sql.split(";"):
            await session.exec(text(statement))  # type: ignore[call-overload]


async def test_intact_chain_verifies(database: Database) -> None:
    report = await verify(database)
    assert report.ok, report.problems
    assert report.checked == 6


async def test_sealing_is_incremental(database: Database) -> None:
    async with database.session() as session:
        audit.record(session, tenant_id="acme", actor="a", action="x", entity_type="t", entity_id=9, clock=CLOCK)
    async with database.session() as session:
        assert await audit.seal(session) == 1
    report = await verify(database)
    assert report.ok and report.checked == 7


async def test_a_backlog_is_sealed_a_thousand_at_a_time_each_row_found_by_its_key(database: Database) -> None:
    """An import's burst of entries: sealed in rounds of one statement each, chained in order, probing the key."""
    entries = [
        audit.entry_values(
            tenant_id="acme", actor="job", action="bulk", entity_type="t", entity_id=i, clock=CLOCK,
            detail={"n": i, "name": "Zoë ✓"},
        )
        for i in range(2500)
    ]  # fmt: skip
    async with database.session() as session:
        await audit.record_many(session, entries)
    rounds = []
    for _ in range(4):
        async with database.session() as session:
            rounds.append(await audit.seal(session))
    assert rounds == [1000, 1000, 500, 0]
    report = await verify(database)
    assert report.ok and report.checked == 2506 and report.unsealed == 0, report.problems

    async with database.session() as session:  # a log of some size, never analysed
        await session.exec(text(FILL))  # type: ignore[call-overload]
    arrays = {"ids": list(range(1, 1001)), "seqs": list(range(1, 1001)), "prevs": ["0"] * 1000, "hashes": ["0"] * 1000}
    explain = text("EXPLAIN " + audit.SEAL_MANY.text).bindparams(
        bindparam("ids", type_=ARRAY(BigInteger)),
        bindparam("seqs", type_=ARRAY(BigInteger)),
        bindparam("prevs", type_=ARRAY(String)),
        bindparam("hashes", type_=ARRAY(String)),
    )
    async with database.session() as session:
        plan = "\n".join(row[0] for row in (await session.exec(explain.bindparams(**arrays))).all())  # type: ignore[call-overload]
    assert "Seq Scan on audit_log" not in plan and "pk_audit_log" in plan, plan


async def test_the_trigger_refuses_changes_to_sealed_rows(database: Database) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        async with database.session() as session:
            await session.exec(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2"))  # type: ignore[call-overload]
    with pytest.raises(DBAPIError, match="append-only"):
        async with database.session() as session:
            await session.exec(text("DELETE FROM audit_log WHERE seq = 2"))  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("UPDATE audit_log SET detail = '{\"step\": 99}' WHERE seq = 3", "seq 3: content does not match"),
        ("DELETE FROM audit_log WHERE seq = 4", "rows with seq 4..4 are missing"),
        (
            "UPDATE audit_log SET seq = -1 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 5;"
            "UPDATE audit_log SET seq = 5 WHERE seq = -1",
            "link to the previous row is broken",
        ),
        ("DELETE FROM audit_log WHERE seq >= 5", "deleted from the end"),
        ("UPDATE audit_log SET occurred_at = occurred_at - interval '1 day' WHERE seq = 6", "seq 6: content"),
    ],
    ids=["edited", "deleted", "reordered", "tail-deleted", "backdated"],
)
async def test_tampering_is_detected(database: Database, sql: str, expected: str) -> None:
    await tamper(database, sql)
    report = await verify(database)
    assert not report.ok
    assert any(expected in problem for problem in report.problems), report.problems
