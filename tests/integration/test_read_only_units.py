"""Read-only units of work: no transaction round trips, and every way of writing refused."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Column, Integer, Text, delete, insert, text, update
from sqlalchemy.orm import registry

from shared.rules.clock import SystemClock
from shared.runtime.db import Database, ReadOnlyViolation
from shared.runtime.uow import UnitOfWork
from tests.support.stack import Infra

pytestmark = pytest.mark.integration

things = registry()


@things.mapped
class Thing:
    """A table of this test's own."""

    __tablename__ = "read_only_thing"
    id = Column(Integer, primary_key=True)
    name = Column(Text)


async def test_a_read_only_session_reads_without_begin_or_commit_and_refuses_writes(infra: Infra) -> None:
    settings = infra.settings("consent", infra.fresh_database("consent"), "readonly")
    database = Database(settings.database_url, pool_size=1, max_overflow=0)
    try:
        async with database.session() as session:  # a writer first: the table the reader reads
            await session.run_sync(lambda s: things.metadata.create_all(s.connection()))
            await session.execute(insert(Thing).values(id=1, name="one"))
        async with database.read_session() as session:
            driver: Any = (await (await session.connection()).get_raw_connection()).driver_connection
            assert (await session.get(Thing, 1)).name == "one"  # type: ignore[union-attr]
            assert not driver.is_in_transaction()  # no BEGIN was sent: the read was its own transaction
            uow: UnitOfWork[Any] = UnitOfWork(session, settings, SystemClock(), "acme", "reader", read_only=True)
            with pytest.raises(ReadOnlyViolation):
                uow.audit("thing.read", "thing", 1)
            for statement in (
                insert(Thing).values(id=2, name="two"),
                update(Thing).values(name="uno"),
                delete(Thing),
            ):
                with pytest.raises(ReadOnlyViolation):
                    await session.execute(statement)
            session.add(Thing(id=3, name="three"))
            with pytest.raises(ReadOnlyViolation):
                await session.flush()
        async with database.session() as session:  # none of the refused writes reached the table
            rows = (await session.execute(text("SELECT id, name FROM read_only_thing"))).all()
            assert [tuple(r) for r in rows] == [(1, "one")]
    finally:
        await database.dispose()
