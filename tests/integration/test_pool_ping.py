"""Pooled connections: tested before use only after sitting idle, and replaced when found dead."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text

from shared.runtime import db
from shared.runtime.db import Database
from tests.support.stack import Infra

pytestmark = pytest.mark.integration


async def _backend_pid(database: Database) -> int:
    async with database.session() as session:
        return int((await session.exec(text("SELECT pg_backend_pid()"))).scalar_one())  # type: ignore[call-overload]


async def _terminate(database: Database, pid: int) -> None:
    async with database.session() as session:
        await session.exec(text("SELECT pg_terminate_backend(:pid)").bindparams(pid=pid))  # type: ignore[call-overload]


async def test_a_connection_in_steady_use_is_not_pinged(infra: Infra) -> None:
    database = Database(infra.settings("consent", infra.fresh_database("consent"), "ping").database_url, pool_size=1)
    statements: list[str] = []
    event.listen(database.engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    pings: list[object] = []
    dialect = database.engine.sync_engine.dialect
    original = dialect.do_ping
    dialect.do_ping = lambda conn: pings.append(conn) or original(conn)  # type: ignore[method-assign]
    try:
        for _ in range(5):
            await _backend_pid(database)
    finally:
        await database.dispose()
    assert len(statements) == 5
    assert pings == []


async def test_an_idle_connection_found_dead_is_replaced(infra: Infra, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "PING_IDLE_S", 0.0)  # every connection handed back counts as idle
    url = infra.settings("consent", infra.fresh_database("consent"), "ping").database_url
    database, killer = Database(url, pool_size=1, max_overflow=0), Database(url, pool_size=1, pre_ping=False)
    try:
        first = await _backend_pid(database)
        await _terminate(killer, first)
        second = await _backend_pid(database)  # no error: the dead connection was replaced before use
    finally:
        await database.dispose()
        await killer.dispose()
    assert second != first
