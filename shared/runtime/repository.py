"""Tenant-scoped loading: a row of the caller's tenant, or the 404 every other case looks like."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any, Protocol, TypeVar, cast

import asyncpg
from asyncpg.pgproto.pgproto import UUID as FastUUID
from sqlalchemy import func
from sqlmodel import col, select

from shared.rules.errors import Conflict, NotFound
from shared.runtime import rows
from shared.runtime.db import one_of
from shared.runtime.uow import UnitOfWork


class TenantRow(Protocol):
    """A table row that belongs to a tenant."""

    tenant_id: str


M = TypeVar("M", bound=TenantRow)


# Values bound as they are on the direct pool; any other (None, a datetime) takes the session's column types.
_DIRECT_VALUES = frozenset({str, int, bool, uuid.UUID, FastUUID})


def _label(model: type[Any]) -> str:
    return getattr(model, "__label__", None) or model.__name__.lower()


async def find(uow: UnitOfWork[Any], model: type[M], id_: Any, *, lock: bool = False) -> M | None:
    """The row ``id_`` of ``model`` if it belongs to the unit's tenant (``lock``: ``FOR UPDATE``), else None.

    A read-only unit reads it on the direct pool (``shared.runtime.rows``), a quarter of the session's cost.
    """
    try:
        if uow.direct is not None and uow.read_only and rows.supports(model):
            row = cast(M | None, await rows.get(uow.direct, model, id_))
        else:
            row = await uow.session.get(model, id_, with_for_update=lock or None)
    except (ValueError, TypeError, asyncpg.DataError):  # an id that cannot be one (a malformed UUID in a path)
        return None
    if row is None or row.tenant_id != uow.tenant_id:
        return None
    return row


async def get_or_404(uow: UnitOfWork[Any], model: type[M], id_: Any, *, lock: bool = False, label: str = "") -> M:
    """The row ``id_`` of ``model`` in the unit's tenant; 404 when missing or another tenant's (they look the same)."""
    row = await find(uow, model, id_, lock=lock)
    if row is None:
        raise NotFound(f"No {label or _label(model)} {id_} for this tenant.")
    return row


async def find_by(uow: UnitOfWork[Any], model: type[M], *, lock: bool = False, **where: Any) -> M | None:
    """The row of ``model`` in the unit's tenant matching every ``column=value`` of ``where`` (unique), or None."""
    direct = uow.direct is not None and uow.read_only and rows.supports(model)
    if direct and all(type(v) in _DIRECT_VALUES for v in where.values()):
        pool = cast(asyncpg.Pool, uow.direct)
        try:
            return cast(M | None, await rows.first_where(pool, model, {"tenant_id": uow.tenant_id, **where}))
        except asyncpg.DataError:  # a value its column cannot hold (a malformed UUID) matches no row
            return None
    statement = select(model).where(col(model.tenant_id) == uow.tenant_id)  # type: ignore[arg-type]
    for name, value in where.items():
        statement = statement.where(col(getattr(model, name)) == value)
    if lock:
        statement = statement.with_for_update()
    return (await uow.session.exec(statement.limit(1))).first()


async def find_in(
    uow: UnitOfWork[Any], model: type[M], key: str, values: Collection[Any], *, order_by: tuple[str, ...] = ()
) -> list[M]:
    """The rows of ``model`` in the unit's tenant whose ``key`` is one of ``values`` (e.g. the children of a page).

    A read-only unit reads them on the direct pool: a page's related rows without the ORM session.
    """
    if not values:
        return []
    if _direct(uow, model, values):
        pool = cast(asyncpg.Pool, uow.direct)
        return cast(list[M], await rows.where_in(pool, model, uow.tenant_id, key, list(values), order_by=order_by))
    statement = select(model).where(
        col(model.tenant_id) == uow.tenant_id,  # type: ignore[attr-defined]
        one_of(col(getattr(model, key)), values),
    )
    for name in order_by:
        statement = statement.order_by(col(getattr(model, name)))
    return list((await uow.session.exec(statement)).all())


async def columns_in(
    uow: UnitOfWork[Any], model: type[Any], key: str, values: Collection[Any], columns: tuple[str, ...]
) -> list[tuple[Any, ...]]:
    """``columns`` of the rows ``find_in`` reads, as tuples (for rows too big to read whole)."""
    if not values:
        return []
    if _direct(uow, model, values):
        pool = cast(asyncpg.Pool, uow.direct)
        return await rows.columns_in(pool, model, uow.tenant_id, key, list(values), columns)
    statement = select(*(col(getattr(model, c)) for c in columns)).where(
        col(model.tenant_id) == uow.tenant_id,
        one_of(col(getattr(model, key)), values),
    )
    return [tuple(row) for row in (await uow.session.exec(statement)).all()]


async def counts_in(uow: UnitOfWork[Any], model: type[Any], key: str, values: Collection[Any]) -> dict[Any, int]:
    """How many rows of ``model`` in the unit's tenant have each of ``values`` as ``key`` (absent: none)."""
    if not values:
        return {}
    if _direct(uow, model, values):
        return await rows.counts_in(cast(asyncpg.Pool, uow.direct), model, uow.tenant_id, key, list(values))
    column = col(getattr(model, key))
    statement = (
        select(column, func.count())
        .where(col(model.tenant_id) == uow.tenant_id, one_of(column, values))
        .group_by(column)
    )
    return {value: int(count) for value, count in (await uow.session.exec(statement)).all()}


def _direct(uow: UnitOfWork[Any], model: type[Any], values: Collection[Any]) -> bool:
    """Whether a read of ``model`` by these values goes to the direct pool (read-only unit, plain values)."""
    return (
        uow.direct is not None
        and uow.read_only
        and rows.supports(model)
        and all(type(v) in _DIRECT_VALUES for v in values)
    )


async def get_or_404_by(uow: UnitOfWork[Any], model: type[M], *, label: str = "", **where: Any) -> M:
    """``find_by``, or 404 when no row of the unit's tenant matches (another tenant's looks the same)."""
    row = await find_by(uow, model, **where)
    if row is None:
        shown = ", ".join(f"{k} {v}" for k, v in where.items())
        raise NotFound(f"No {label or _label(model)} with {shown} for this tenant.")
    return row


async def exists_or_conflict(uow: UnitOfWork[Any], model: type[M], detail: str, **where: Any) -> None:
    """409 ``detail`` when a row of ``model`` of the unit's tenant matches every ``column=value`` of ``where``."""
    statement = select(col(model.tenant_id)).where(col(model.tenant_id) == uow.tenant_id)  # type: ignore[arg-type]
    for name, value in where.items():
        statement = statement.where(col(getattr(model, name)) == value)
    if (await uow.session.exec(statement.limit(1))).first() is not None:
        raise Conflict(detail)
