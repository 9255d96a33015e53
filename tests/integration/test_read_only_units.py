"""Read-only units of work: no transaction round trips, and every way of writing refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Column, Integer, Text, delete, insert, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, col, select

from shared.rules.clock import SystemClock
from shared.runtime import rows
from shared.runtime.db import Database, LazyReadSession, ReadOnlyViolation, UTCDateTime, service_registry
from shared.runtime.repository import columns_in, counts_in, find, find_by, find_in
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


class _Own(SQLModel, registry=service_registry()):
    """This test's models: kept out of the platform tables' metadata."""


class Keyed(_Own, table=True):
    """A table with what the direct reads must map as the session does: a composite key, UTC times, JSON."""

    __tablename__ = "read_only_keyed"

    tenant_id: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    note: str | None = None


class Ided(_Own, table=True):
    """A table keyed by a UUID, as most are."""

    __tablename__ = "read_only_ided"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    tenant_id: str


async def test_reads_by_key_on_the_direct_pool_give_the_rows_the_session_gives(infra: Infra) -> None:
    settings = infra.settings("consent", infra.fresh_database("consent"), "direct")
    database = Database(settings.database_url, pool_size=1, max_overflow=0)
    at = datetime(2026, 3, 2, 7, 40, tzinfo=UTC)
    try:
        async with database.session() as session:
            await session.run_sync(lambda s: _Own.metadata.create_all(s.connection()))
            session.add(Keyed(tenant_id="acme", key="a", at=at, detail={"n": 1, "when": "x"}, tags=["t"]))
            session.add(Keyed(tenant_id="other", key="a", at=at, note="theirs"))
        pool = await database.open_direct()
        assert await database.open_direct() is pool  # opened once
        async with database.read_session() as session:
            uow: UnitOfWork[Any] = UnitOfWork(
                session, settings, SystemClock(), "acme", "reader", read_only=True, direct=pool
            )
            direct = await find(uow, Keyed, ("acme", "a"))
            by_session = await session.get(Keyed, ("acme", "a"))
            assert direct is not None and by_session is not None and direct is not by_session
            assert direct.model_dump() == by_session.model_dump()
            assert direct.at.tzinfo is not None and direct.at == at and direct.detail == {"n": 1, "when": "x"}
            assert await find(uow, Keyed, ("other", "a")) is None  # another tenant's row looks missing
            assert await find(uow, Keyed, ("acme", "missing")) is None
            assert await find(uow, Keyed, "not-a-composite-key") is None
            assert await find(uow, Ided, "not-a-uuid") is None  # a malformed id is a missing row, not a 500
            assert await find(uow, Ided, uuid.uuid4()) is None
            assert await find_by(uow, Ided, id="not-a-uuid") is None
            assert (await find_by(uow, Keyed, key="a")) is not None
            assert (await find_by(uow, Keyed, note="theirs")) is None  # the tenant filter holds on the direct path
            direct.note = "changed"  # a plain object of no session: changing it writes nothing
            session.add(direct)
            with pytest.raises(ReadOnlyViolation):
                await session.flush()
    finally:
        await database.dispose()


async def test_rows_by_a_list_of_keys_are_the_same_on_the_direct_pool_and_in_the_session(infra: Infra) -> None:
    settings = infra.settings("consent", infra.fresh_database("consent"), "direct_in")
    database = Database(settings.database_url, pool_size=1, max_overflow=0)
    at = datetime(2026, 3, 2, 7, 40, tzinfo=UTC)
    try:
        async with database.session() as session:
            await session.run_sync(lambda s: _Own.metadata.create_all(s.connection()))
            for key, note in (("c", "x"), ("a", "x"), ("b", "y")):
                session.add(Keyed(tenant_id="acme", key=key, at=at, detail={"k": key}, note=note))
            session.add(Keyed(tenant_id="other", key="a", at=at, note="x"))
        pool = await database.open_direct()
        answers = []
        for direct in (pool, None):  # a read-only unit on the direct pool, then the same reads in a session
            async with database.read_session() as session:
                uow: UnitOfWork[Any] = UnitOfWork(
                    session, settings, SystemClock(), "acme", "reader", read_only=True, direct=direct
                )
                found = await find_in(uow, Keyed, "note", ["x", "y"], order_by=("key",))
                answers.append((
                    [(k.key, k.note, k.detail, k.at) for k in found],
                    await columns_in(uow, Keyed, "key", ["a", "b", "zzz"], ("key", "at")),
                    await counts_in(uow, Keyed, "note", ["x", "y", "none"]),
                    await find_in(uow, Keyed, "key", []),
                ))  # fmt: skip
        on_pool, in_session = answers
        assert (
            on_pool[0]
            == in_session[0]
            == [("a", "x", {"k": "a"}, at), ("b", "y", {"k": "b"}, at), ("c", "x", {"k": "c"}, at)]
        )
        assert sorted(on_pool[1]) == sorted(in_session[1]) == [("a", at), ("b", at)]  # timestamps made UTC on both
        assert on_pool[2] == in_session[2] == {"x": 2, "y": 1}  # another tenant's row is not counted
        assert on_pool[3] == in_session[3] == []
    finally:
        await database.dispose()


async def test_a_plain_select_runs_on_the_direct_pool_and_gives_the_sessions_rows(infra: Infra) -> None:
    settings = infra.settings("consent", infra.fresh_database("consent"), "direct_select")
    database = Database(settings.database_url, pool_size=1, max_overflow=0)
    at = datetime(2026, 3, 2, 7, 40, tzinfo=UTC)
    try:
        async with database.session() as session:
            await session.run_sync(lambda s: _Own.metadata.create_all(s.connection()))
            for n, key in enumerate("edcba"):
                session.add(Keyed(tenant_id="acme", key=key, at=at, detail={"n": n}, tags=[key], note=f"n{n % 2}"))
            session.add(Keyed(tenant_id="other", key="a", at=at, note="n0"))
        pool = await database.open_direct()
        shapes = [
            select(Keyed).where(col(Keyed.tenant_id) == "acme").order_by(col(Keyed.key)),
            select(Keyed)
            .where(col(Keyed.tenant_id) == "acme", col(Keyed.key).in_(["a", "c", "zz"]))
            .order_by(col(Keyed.key)),
            select(Keyed)
            .where(col(Keyed.tenant_id) == "acme", col(Keyed.at) <= at)
            .order_by(col(Keyed.key).desc())
            .offset(1)
            .limit(2),
            select(Keyed).where(col(Keyed.note) == "n1").order_by(col(Keyed.key)),
            select(Keyed).where(col(Keyed.key) == "nothing"),
        ]
        async with database.read_session() as session:
            for statement in shapes:
                direct = await rows.select_entities(pool, statement, database.engine.dialect)
                assert direct is not None, statement
                by_session = (await session.exec(statement)).all()
                assert [r.model_dump() for r in direct] == [r.model_dump() for r in by_session]
                assert all(r.at.tzinfo is not None for r in direct)
            # the same shape with other values reuses its compiled form and binds the new values
            again = await rows.select_entities(
                pool, select(Keyed).where(col(Keyed.key).in_(["e"])), database.engine.dialect
            )
            assert [r.key for r in again or []] == ["e"]
            for other in (
                select(Keyed.key),  # columns, not the model
                select(Keyed).with_for_update(),
                select(Keyed).execution_options(populate_existing=True),
                select(Keyed).join(Ided, col(Ided.tenant_id) == col(Keyed.tenant_id)),
            ):
                assert await rows.select_entities(pool, other, database.engine.dialect) is None
        closers: list[Any] = []
        lazy = LazyReadSession(database, closers)
        found = await lazy.exec(shapes[0])
        assert isinstance(found, rows.Rows) and [r.key for r in found.all()] == list("abcde")
        assert found.first() is not None and not closers  # no session was opened
        assert (await lazy.exec(select(Keyed.key).where(col(Keyed.key) == "a"))).all() == ["a", "a"]
        assert closers  # the columns' select went through a session
        for close in closers:
            await close()
    finally:
        await database.dispose()


async def test_a_read_only_units_session_opens_on_first_use_and_closes_with_the_request(infra: Infra) -> None:
    settings = infra.settings("consent", infra.fresh_database("consent"), "lazy")
    database = Database(settings.database_url, pool_size=1, max_overflow=0)
    closers: list[Any] = []
    try:
        lazy: Any = LazyReadSession(database, closers)
        assert closers == []  # nothing opened while unused
        assert (await lazy.execute(text("SELECT 1"))).scalar() == 1
        assert len(closers) == 1 and database.engine.pool.checkedout() == 1  # type: ignore[attr-defined]
        for close in closers:
            await close()
        assert database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await database.dispose()


def test_only_plain_table_mappings_are_read_on_the_direct_pool() -> None:
    from sqlalchemy import func, select
    from sqlalchemy.orm import column_property

    from shared.runtime import rows

    assert rows.supports(Keyed)

    class Counted(_Own, table=True):
        __tablename__ = "read_only_counted"
        id: int = Field(primary_key=True)

    Counted.doubled = column_property(select(func.count()).scalar_subquery())  # type: ignore[attr-defined]
    assert not rows.supports(Counted)  # read through the session instead
