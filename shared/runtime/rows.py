"""Reads by key straight on asyncpg: the rows of a read-only unit of work without the ORM's machinery.

A read by primary key through an ``AsyncSession`` costs about 1 ms in-process against 0.25 ms for the
same statement on a pooled asyncpg connection: the session's connection checkout, the statement's
compile-cache lookup, the execution context and the result objects cost three times the database's
own work. A read-only unit (``unit_of_work(..., read_only=True)``) reads its rows by key (``find``,
``find_by`` of ``shared.runtime.repository``) here instead, on the database's direct pool
(``Database.open_direct``).

The rows are the same objects the session would give: the model is made the way the ORM loads a row
(``ClassManager.new_instance``, then the row's values in the instance's ``__dict__``), with each
column's own result processing (timestamps made UTC by ``UTCDateTime``, JSON decoded by the same
codecs SQLAlchemy installs). They belong to no session: changing one changes nothing in the database.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import asyncpg
from sqlalchemy import Column, Select, Table, exc
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import class_mapper

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class _Mapping:
    """How rows of one model are read: its columns' select list and each column's result processing."""

    table: str
    columns: str
    keys: tuple[str, ...]
    processors: tuple[tuple[int, str, Callable[[Any], Any]], ...]  # (position, key, processor) where one is needed
    primary_key: tuple[str, ...]  # the attribute names of the primary key's columns, in their order
    new_instance: Callable[[], Any]

    def build(self, record: asyncpg.Record) -> Any:
        values = dict(zip(self.keys, record, strict=True))
        for position, key, process in self.processors:
            values[key] = process(record[position])
        instance = self.new_instance()
        instance.__dict__.update(values)
        return instance


_MAPPINGS: dict[type[Any], _Mapping] = {}
_SUPPORTED: dict[type[Any], bool] = {}


def supports(model: type[Any]) -> bool:
    """Whether rows of ``model`` can be read here: a plain table mapping whose every attribute is one column.

    Anything else (inheritance, an attribute made of an SQL expression) is read through the session.
    """
    found = _SUPPORTED.get(model)
    if found is None:
        mapper = class_mapper(model)
        table = mapper.local_table
        found = mapper.inherits is None and all(
            len(prop.columns) == 1 and isinstance(prop.columns[0], Column) and prop.columns[0].table is table
            for prop in mapper.column_attrs
        )
        _SUPPORTED[model] = found
    return found


def _mapping(model: type[Any]) -> _Mapping:
    found = _MAPPINGS.get(model)
    if found is not None:
        return found
    mapper = class_mapper(model)
    table = cast(Table, mapper.local_table)
    if not supports(model):
        raise TypeError(f"{model.__name__}: not a plain table mapping, read it through the session")
    attributes = [(prop.key, prop.columns[0]) for prop in mapper.column_attrs]
    processors = []
    for position, (key, column) in enumerate(attributes):
        process = column.type._cached_result_processor(_DIALECT, None)
        if process is not None:
            processors.append((position, key, process))
    found = _Mapping(
        table=_quoted(table.name),
        columns=", ".join(_quoted(column.name) for _, column in attributes),
        keys=tuple(key for key, _ in attributes),
        processors=tuple(processors),
        primary_key=tuple(mapper.get_property_by_column(column).key for column in mapper.primary_key),
        new_instance=mapper.class_manager.new_instance,
    )
    _MAPPINGS[model] = found
    return found


def _quoted(name: str) -> str:
    return _DIALECT.identifier_preparer.quote(name)


def _column_name(model: type[Any], key: str) -> str:
    return _quoted(class_mapper(model).columns[key].name)


_STATEMENTS: dict[tuple[type[Any], tuple[str, ...]], str] = {}


def _statement(model: type[Any], where: tuple[str, ...]) -> str:
    """``SELECT <columns> FROM <table> WHERE <each key> = $n LIMIT 1``, built once per model and keys."""
    statement = _STATEMENTS.get((model, where))
    if statement is None:
        mapping = _mapping(model)
        clauses = " AND ".join(f"{_column_name(model, key)} = ${n}" for n, key in enumerate(where, start=1))
        statement = f"SELECT {mapping.columns} FROM {mapping.table} WHERE {clauses} LIMIT 1"
        _STATEMENTS[(model, where)] = statement
    return statement


async def get(pool: asyncpg.Pool, model: type[Any], id_: Any) -> Any | None:
    """The row of ``model`` with primary key ``id_`` (a tuple in the key's column order when composite), or None."""
    mapping = _mapping(model)
    values = tuple(id_) if len(mapping.primary_key) > 1 else (id_,)
    if len(values) != len(mapping.primary_key):
        raise ValueError(f"{model.__name__}: a primary key of {len(mapping.primary_key)} values, not {len(values)}")
    record = await pool.fetchrow(_statement(model, mapping.primary_key), *values)
    return mapping.build(record) if record is not None else None


async def first_where(pool: asyncpg.Pool, model: type[Any], where: dict[str, Any]) -> Any | None:
    """A row of ``model`` whose columns equal every value of ``where`` (attribute names), or None."""
    record = await pool.fetchrow(_statement(model, tuple(where)), *where.values())
    return _mapping(model).build(record) if record is not None else None


_IN_STATEMENTS: dict[tuple[type[Any], str, tuple[str, ...] | None, tuple[str, ...]], str] = {}
_COUNT_STATEMENTS: dict[tuple[type[Any], str], str] = {}


def _in_statement(model: type[Any], key: str, columns: tuple[str, ...] | None, order_by: tuple[str, ...]) -> str:
    """``SELECT … FROM <table> WHERE tenant_id = $1 AND <key> = ANY($2) [ORDER BY …]``, built once per shape."""
    shape = (model, key, columns, order_by)
    statement = _IN_STATEMENTS.get(shape)
    if statement is None:
        mapping = _mapping(model)
        selected = mapping.columns if columns is None else ", ".join(_column_name(model, c) for c in columns)
        statement = (
            f"SELECT {selected} FROM {mapping.table} "
            f"WHERE {_column_name(model, 'tenant_id')} = $1 AND {_column_name(model, key)} = ANY($2)"
        )
        if order_by:
            statement += " ORDER BY " + ", ".join(_column_name(model, c) for c in order_by)
        _IN_STATEMENTS[shape] = statement
    return statement


async def where_in(
    pool: asyncpg.Pool,
    model: type[Any],
    tenant_id: str,
    key: str,
    values: list[Any],
    *,
    order_by: tuple[str, ...] = (),
) -> list[Any]:
    """The rows of ``model`` in ``tenant_id`` whose ``key`` is one of ``values`` (one statement, any length)."""
    mapping = _mapping(model)
    records = await pool.fetch(_in_statement(model, key, None, order_by), tenant_id, values)
    return [mapping.build(record) for record in records]


async def columns_in(
    pool: asyncpg.Pool, model: type[Any], tenant_id: str, key: str, values: list[Any], columns: tuple[str, ...]
) -> list[tuple[Any, ...]]:
    """``columns`` of the rows ``where_in`` reads, as tuples: for a row too big to read whole (a file's bytes)."""
    mapping = _mapping(model)
    process = [dict((k, p) for _, k, p in mapping.processors).get(c) for c in columns]
    records = await pool.fetch(_in_statement(model, key, columns, ()), tenant_id, values)
    return [tuple(p(v) if p else v for p, v in zip(process, record, strict=True)) for record in records]


async def counts_in(
    pool: asyncpg.Pool, model: type[Any], tenant_id: str, key: str, values: list[Any]
) -> dict[Any, int]:
    """How many rows of ``model`` in ``tenant_id`` have each of ``values`` as ``key`` (absent: none)."""
    statement = _COUNT_STATEMENTS.get((model, key))
    if statement is None:
        column = _column_name(model, key)
        statement = (
            f"SELECT {column}, count(*) FROM {_mapping(model).table} "
            f"WHERE {_column_name(model, 'tenant_id')} = $1 AND {column} = ANY($2) GROUP BY {column}"
        )
        _COUNT_STATEMENTS[(model, key)] = statement
    return {value: count for value, count in await pool.fetch(statement, tenant_id, values)}


async def install_codecs(connection: asyncpg.Connection) -> None:
    """Decode ``json`` and ``jsonb`` as SQLAlchemy's asyncpg dialect does (values bound as JSON text).

    Installed on every connection of the direct pool, so a row read here holds the same values as one
    read through the session, and a statement binding JSON text to a ``jsonb`` parameter works on both.
    """
    await connection.set_type_codec(
        "json", encoder=str.encode, decoder=lambda b: json.loads(b.decode()), schema="pg_catalog", format="binary"
    )
    await connection.set_type_codec(
        "jsonb",
        encoder=lambda s: b"\x01" + s.encode(),
        decoder=lambda b: json.loads(b[1:].decode()),
        schema="pg_catalog",
        format="binary",
    )


# -- whole-entity selects ---------------------------------------------------------------------


class Rows(list[Any]):
    """The rows of a direct select, with the methods callers use on the session's ``ScalarResult``."""

    def all(self) -> list[Any]:
        return list(self)

    def first(self) -> Any | None:
        return self[0] if self else None

    def one_or_none(self) -> Any | None:
        if len(self) > 1:
            raise exc.MultipleResultsFound("Multiple rows were found when one or none was required")
        return self.first()

    def one(self) -> Any:
        if len(self) != 1:
            raise (exc.NoResultFound if not self else exc.MultipleResultsFound)("Expected exactly one row")
        return self[0]


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A select compiled once per shape: the compiled form and how its result columns map to the model."""

    compiled: Any
    keys: tuple[str, ...]
    processors: tuple[tuple[int, str, Callable[[Any], Any]], ...]
    new_instance: Callable[[], Any]

    def build(self, record: asyncpg.Record) -> Any:
        values = dict(zip(self.keys, record, strict=True))
        for position, key, process in self.processors:
            values[key] = process(record[position])
        instance = self.new_instance()
        instance.__dict__.update(values)
        return instance


_COMPILED: dict[Any, _Compiled | None] = {}


def _entity_of(statement: Any) -> type[Any] | None:
    """The model of a plain ``select(Model)…``, without locks or options; else None (its tables: ``_compile``)."""
    if not isinstance(statement, Select):
        return None
    descriptions = statement.column_descriptions
    if len(descriptions) != 1:
        return None
    entity = descriptions[0].get("entity")
    if entity is None or descriptions[0].get("expr") is not entity or not supports(entity):
        return None
    if (
        statement._for_update_arg is not None
        or statement._with_options
        or statement._execution_options
        or statement._setup_joins
        or getattr(statement, "_with_context_options", ())
    ):
        return None
    return cast(type[Any], entity)


def _compile(statement: Any, entity: type[Any], dialect: Dialect, key: Any) -> _Compiled | None:
    mapper = class_mapper(entity)
    froms = statement.get_final_froms()  # once per shape: it compiles the statement
    if len(froms) != 1 or froms[0] is not mapper.local_table:
        return None
    try:
        compiled = statement.compile(dialect=dialect, cache_key=key)
    except exc.CompileError:
        return None
    keys: list[str] = []
    processors = []
    for position, column in enumerate(compiled._result_columns):
        owners = [o for o in column.objects if isinstance(o, Column)]
        if len(owners) != 1:
            return None
        prop = mapper.get_property_by_column(owners[0])
        keys.append(prop.key)
        process = owners[0].type._cached_result_processor(dialect, None)
        if process is not None:
            processors.append((position, prop.key, process))
    if sorted(keys) != sorted(p.key for p in mapper.column_attrs):  # a deferred column would be missing
        return None
    return _Compiled(compiled, tuple(keys), tuple(processors), mapper.class_manager.new_instance)


async def select_entities(pool: asyncpg.Pool, statement: Any, dialect: Dialect) -> Rows | None:
    """Run ``select(Model)…`` on ``pool`` and build the rows as the session loads them; None when it cannot.

    The statement is compiled once per shape by ``dialect`` (the engine's, so it reads as the session
    would send it), then each run binds the statement's own values through the compiled form's
    bind processing. What is not a plain select of one table's model, or does not compile to its
    every column, gives None: the caller runs it through the session.
    """
    entity = _entity_of(statement)
    if entity is None:
        return None
    key = statement._generate_cache_key()
    if key is None:
        return None
    if key.key in _COMPILED:
        shape = _COMPILED[key.key]
    else:
        shape = _COMPILED[key.key] = _compile(statement, entity, dialect, key)
    if shape is None:
        return None
    compiled = shape.compiled
    params = compiled.construct_params(extracted_parameters=key.bindparams, escape_names=False)
    expanded = compiled._process_parameters_for_postcompile(params)
    processors = expanded.processors
    values = []
    for name in expanded.positiontup:
        value = expanded.parameters[name]
        process = processors.get(name)
        values.append(process(value) if process is not None else value)
    records = await pool.fetch(expanded.statement, *values)
    return Rows(shape.build(record) for record in records)
