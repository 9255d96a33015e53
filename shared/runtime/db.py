"""Database access: one async engine per service (SQLModel on asyncpg), sessions, UTC timestamps.

The framework commits: the request dependency commits before the response is sent and rolls
back on any error; services and repositories only ``flush()``.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any, cast

import asyncpg
from asyncpg.pgproto.pgproto import UUID as FastUUID
from fastapi import Depends, Request
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    DateTime,
    MetaData,
    TypeDecorator,
    any_,
    bindparam,
    event,
    exc,
    literal,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import ORMExecuteState, registry
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.runtime import rows
from shared.runtime.pool import FairQueuePool, create_fair_pool
from shared.runtime.settings import ServiceSettings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# Platform tables (outbox, inbox, audit log, dead letters) live in SQLModel's default metadata
# and are created in every service's database; each service keeps its own tables in its own
# registry so that no service's schema leaks into another's migrations.
SQLModel.metadata.naming_convention = NAMING_CONVENTION


def _remember_default_factory_signatures() -> None:
    """Ask once per default factory whether it takes the validated data, not once per row built.

    Building a table model (``Incident(...)``) fills every field left out from its default through
    ``FieldInfo.get_default``, and pydantic 2.14 answers ``default_factory_takes_validated_data`` by
    calling ``inspect.signature`` on the factory every time, uncached; for a builtin (``dict``,
    ``list``) that parses its text signature with ``ast``. It was a third of a breach report's CPU
    (a model with eight factories took 1.3 ms to build). The answer depends on the factory alone, so
    it is kept per factory; an unhashable factory is asked every time as before.
    """
    from pydantic._internal import _fields

    ask = getattr(_fields, "takes_validated_data_argument", None)
    if ask is None or getattr(ask, "remembers", False):
        return
    answers: dict[Any, bool] = {}

    def remembered(factory: Any) -> bool:
        try:
            return answers[factory]
        except KeyError:
            answer = answers[factory] = ask(factory)
            return answer
        except TypeError:  # unhashable
            return ask(factory)

    remembered.remembers = True  # type: ignore[attr-defined]
    _fields.takes_validated_data_argument = remembered  # type: ignore[assignment]


_remember_default_factory_signatures()


def service_registry() -> registry:
    """A fresh SQLAlchemy registry with the project's naming convention, one per service."""
    return registry(metadata=MetaData(naming_convention=NAMING_CONVENTION))


class UTCDateTime(TypeDecorator[datetime]):
    """``timestamptz`` that refuses naive datetimes and always returns aware UTC values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes before they reach the database."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given to a UTC timestamp column")
        try:
            return value.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00+01:00 falls before year 1 in UTC
            raise ValueError("timestamp out of range") from None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return timestamps in UTC."""
        return value.astimezone(UTC) if value is not None else None


def new_id() -> uuid.UUID:
    """A new random identifier for a row."""
    return uuid.uuid4()


def new_ids(count: int) -> list[uuid.UUID]:
    """``count`` new random (version 4) identifiers from one read of the system's random source.

    ``uuid.uuid4()`` asks the kernel for 16 bytes per call and ``uuid.UUID`` checks its arguments in
    Python (1 µs per id), which dominates bulk paths (an import chunk needs two identifiers per
    row). The version and variant bits are set on the whole buffer at once, and each id is asyncpg's
    ``UUID`` (a ``uuid.UUID``, the type asyncpg returns for every uuid column; 0.14 µs per id).
    """
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = raw[6::16].translate(_VERSION_4)
    raw[8::16] = raw[8::16].translate(_RFC_VARIANT)
    data = bytes(raw)
    return [FastUUID(data[i : i + 16]) for i in range(0, 16 * count, 16)]


def one_of(column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """``column = ANY(:values)``: the rows whose ``column`` is one of ``values``, with one array parameter.

    ``column.in_(values)`` coerces each value into its own bound parameter and expands them into
    the statement text on every execution, and PostgreSQL sees a new statement for each length of
    the list; a list view's reads of its rows' children (50 incidents' clocks, 500 requests'
    verifications) spent more on that than on the query. The array is one parameter of the
    column's type, whatever the length.
    """
    return cast(ColumnElement[bool], column == any_(bindparam(None, list(values), type_=ARRAY(column.type))))


_VERSION_4 = bytes(0x40 | (b & 0x0F) for b in range(256))  # the high nibble of byte 6
_RFC_VARIANT = bytes(0x80 | (b & 0x3F) for b in range(256))  # the two high bits of byte 8


async def copy_rows(session: AsyncSession, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Write ``rows`` (values in ``columns`` order) into ``table`` with one COPY, in the session's transaction.

    Far cheaper than an INSERT per row for bulk paths (an import's records, a burst's schedules and
    audit entries): one statement, rows sent in binary. What the session holds is flushed first, so
    rows added before keep their place; the values go to the driver as they are (timestamps aware,
    JSON columns as JSON text), bypassing the ORM's column types.
    """
    if not rows:
        return
    await session.flush()
    connection = await session.connection()
    driver: Any = (await connection.get_raw_connection()).driver_connection
    if not driver.is_in_transaction():
        # A COPY on the raw connection would not open the session's transaction and would commit on its
        # own, even if the session then rolled back: a statement through the session opens it first.
        await connection.execute(select(literal(1)))
    await driver.copy_records_to_table(table, records=rows, columns=list(columns))


# A pooled connection idle for longer than this is tested before use; one in steady use is not.
PING_IDLE_S = 10.0
_CHECKED_IN_AT = "privops.checked_in_at"


class Database:
    """The engine and session factory of one service's database."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 20,
        max_overflow: int = 0,
        pre_ping: bool = True,
        echo: bool = False,
        direct_pool_size: int = 10,
    ) -> None:
        self.url = url
        self.direct_pool_size = direct_pool_size
        # The direct pool (``open_direct``): reads by key of read-only units and the hot paths, on asyncpg alone.
        self.direct: asyncpg.Pool | None = None
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            poolclass=FairQueuePool,
            echo=echo,
            connect_args={"server_settings": {"timezone": "UTC", "application_name": "privops"}},
        )
        if pre_ping:
            ping_when_idle(self.engine, PING_IDLE_S)
        self.sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        # Reads without BEGIN and COMMIT: two of a read by id's three round trips. PostgreSQL's default
        # READ COMMITTED gives every statement its own snapshot inside a transaction too, so a reader
        # sees the same rows either way; what it loses is the ability to write, which the session refuses.
        self.read_sessions = async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"),
            class_=AsyncSession,
            sync_session_class=ReadOnlySession,
            expire_on_commit=False,
        )

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> Database:
        """Build the database of a service from its settings."""
        return cls(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pre_ping=settings.db_pool_pre_ping,
            direct_pool_size=settings.db_direct_pool_size,
        )

    async def open_direct(self) -> asyncpg.Pool:
        """Open the direct pool (once): plain asyncpg connections beside the ORM's, for single statements.

        What runs on it is one statement at a time outside any transaction, so a connection handed back
        needs no reset (no round trip); ``json`` and ``jsonb`` are decoded as the ORM's connections do.
        """
        if self.direct is None:
            self.direct = await create_fair_pool(
                self.url.replace("postgresql+asyncpg://", "postgresql://", 1),
                min_size=1,
                max_size=self.direct_pool_size,
                server_settings={"timezone": "UTC", "application_name": "privops"},
                init=rows.install_codecs,
                reset=_nothing_to_reset,
            )
        return self.direct

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits when the block succeeds, rolls back when it raises."""
        async with self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A session that only reads: each statement on its own (no transaction), writes refused."""
        async with self.read_sessions() as session:
            yield session

    async def dispose(self) -> None:
        """Close every pooled connection."""
        if self.direct is not None:
            direct, self.direct = self.direct, None
            await direct.close()
        await self.engine.dispose()


async def _nothing_to_reset(_: asyncpg.Connection) -> None:
    """A direct connection goes back to its pool as it is (saves a round trip per use).

    Only single statements outside explicit transactions run on it: no SET, LISTEN, advisory lock or
    cursor outlives its use.
    """


class ReadOnlyViolation(RuntimeError):
    """A write attempted through a read-only session: a programming error, never a client's."""


class ReadOnlySession(Session):
    """The session of a read-only unit of work (``Database.read_session``): flushes and DML are refused.

    Its connection commits every statement on its own, so a write would not be undone with the request:
    refusing it keeps a read route from changing anything by mistake.
    """


@event.listens_for(ReadOnlySession, "before_flush")
def _refuse_flush(session: Session, flush_context: Any, instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise ReadOnlyViolation("a read-only unit of work cannot write")


@event.listens_for(ReadOnlySession, "do_orm_execute")
def _refuse_dml(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise ReadOnlyViolation("a read-only unit of work cannot write")


def ping_when_idle(engine: AsyncEngine, idle_s: float) -> None:
    """Test a pooled connection before use only when it sat idle for more than ``idle_s`` seconds.

    SQLAlchemy's ``pool_pre_ping`` tests every checkout: one more round trip per request, as many as
    the request's own query on a read by id. A connection handed back a moment ago is alive; one
    that waited (the database may have restarted meanwhile) is tested, and a dead one is replaced,
    with every connection opened before it, as ``pool_pre_ping`` does.
    """
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    @event.listens_for(pool, "checkin")
    def _checked_in(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _checked_out(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: Any) -> None:
        since = record.info.pop(_CHECKED_IN_AT, None)
        if since is None or time.monotonic() - since <= idle_s:
            return  # a new connection, or one in steady use
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as error:
            if not dialect.is_disconnect(error, dbapi_connection, None):  # type: ignore[arg-type]
                raise
            alive = False
        if not alive:
            raise exc.InvalidatePoolError("a pooled connection was found closed")


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.database
    async with database.session() as session:
        yield session


# scope="function": the commit runs when the endpoint returns, before the response is sent,
# so a client never sees a 2xx for a write that then fails to commit.
SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]


# Where ``RequestContextMiddleware`` keeps what closes when the request is over (the ASGI scope's key).
REQUEST_CLOSERS = "privops.closers"


class LazyReadSession:
    """A read-only unit's session, opened on its first use and closed when the request is over.

    Most read routes read their rows by key on the direct pool and never touch a session. FastAPI's
    dependency with ``yield`` that would open and close one costs more than such a route's database
    work (an exit stack per request, a shielded exit); this stand-in forwards every attribute to a
    real ``AsyncSession`` made on first use, whose ``close`` the request's middleware awaits at the end
    (``REQUEST_CLOSERS``). Nothing is committed either way: the session reads outside transactions.
    """

    __slots__ = ("_closers", "_database", "_session")

    def __init__(self, database: Database, closers: list[Callable[[], Awaitable[None]]]) -> None:
        self._database = database
        self._closers = closers
        self._session: AsyncSession | None = None

    def __getattr__(self, name: str) -> Any:
        session = self._session
        if session is None:
            session = self._session = self._database.read_sessions()
            self._closers.append(session.close)
        return getattr(session, name)

    async def exec(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        """``AsyncSession.exec``; a plain ``select(Model)…`` runs on the direct pool (``rows.select_entities``)."""
        if (pool := self._database.direct) is not None and not args and not kwargs:
            try:
                if (found := await rows.select_entities(pool, statement, self._database.engine.dialect)) is not None:
                    return found
            except (asyncpg.PostgresError, asyncpg.InterfaceError, ValueError, TypeError):
                pass  # refused there: the session runs it and gives its own answer (or error)
        return await self.__getattr__("exec")(statement, *args, **kwargs)


def lazy_read_session(request: Request) -> AsyncSession:
    """The read-only session of this request (``LazyReadSession``), typed as the session it stands for."""
    closers = request.scope.get(REQUEST_CLOSERS)
    if closers is None:
        raise RuntimeError("a read-only unit of work needs RequestContextMiddleware to close its session")
    return cast(AsyncSession, LazyReadSession(request.app.state.database, closers))


def as_json(value: Any) -> Any:
    """Make a value JSON-serialisable for a JSONB column (dates and datetimes as ISO text, UUIDs as text)."""
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [as_json(v) for v in value]
    if isinstance(value, date):  # datetimes too (a subclass): ISO 8601 either way
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
