"""Alembic, one migration tree per service (``services/<name>/migrations``), driven from code.

Each tree's ``env.py`` is three lines calling ``run_env`` with the service's metadata; the
platform tables (outbox, inbox, dead letters, audit log) come from SQLModel's default metadata
and are part of every service's schema.

Data migrations that need the subject hash key (``rekey_subject_refs``) get it from
``upgrade(..., subject_key=...)`` (``privops migrate`` and the local stack pass the service's
setting), else from the ``<SERVICE>_SUBJECT_HASH_KEY`` environment variable.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, bindparam, pool, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.types import Text
from sqlmodel import SQLModel

from shared.bus import consumer, outbox  # noqa: F401

# Imported for their side effect: the platform tables join SQLModel.metadata.
from shared.runtime import audit, tenant_ends  # noqa: F401


def alembic_config(service: str, database_url: str) -> Config:
    """An Alembic configuration for ``service`` against ``database_url`` (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", f"services.{service}:migrations")
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    return cfg


def upgrade(service: str, database_url: str, revision: str = "head", *, subject_key: str | bytes | None = None) -> None:
    """Apply ``service``'s migrations up to ``revision`` (blocking; call from a thread inside an event loop).

    ``subject_key`` is the service's subject hash key, for data migrations of subject references.
    """
    cfg = alembic_config(service, database_url)
    if subject_key is not None:
        cfg.attributes[SUBJECT_KEY_ATTRIBUTE] = subject_key.encode() if isinstance(subject_key, str) else subject_key
    command.upgrade(cfg, revision)


def revision(service: str, database_url: str, message: str) -> None:
    """Autogenerate a new migration of ``service`` from the difference between its models and the database."""
    command.revision(alembic_config(service, database_url), message=message, autogenerate=True)


def target_metadata(service_metadata: MetaData) -> list[MetaData]:
    """The platform tables plus the service's own tables."""
    return [SQLModel.metadata, service_metadata]


def run_env(service_metadata: MetaData) -> None:
    """Body of a service's ``env.py``: run migrations online over asyncpg."""
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"
    targets = target_metadata(service_metadata)

    def run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=targets,
            compare_type=True,
            render_as_batch=False,
            user_module_prefix="shared.runtime.db.",
        )
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(run)
            await connection.commit()
        await engine.dispose()

    if context.is_offline_mode():
        context.configure(url=url, target_metadata=targets, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(main())


# --- subject references: re-keying the stored version 1 references per tenant -------------------

SUBJECT_KEY_ATTRIBUTE = "subject_hash_key"
_REF_PATTERN = "^[0-9a-f]{64}$"
_BATCH = 5000


@dataclass(frozen=True)
class RefColumn:
    """Where a table keeps subject references, and in which shape.

    ``shape``: ``text`` (one reference), ``array`` (a PostgreSQL text array), ``json_list`` (a JSONB
    array of strings) or ``json_key`` (a JSONB object whose ``key`` holds one). ``where`` is an extra
    SQL condition on the table's rows (``t`` is the table); ``trigger`` an append-only trigger
    suspended while the column is rewritten. Every table has a ``tenant_id`` column.
    """

    table: str
    column: str
    shape: Literal["text", "array", "json_list", "json_key"] = "text"
    key: str | None = None
    where: str | None = None
    trigger: str | None = None


def migration_subject_key(service: str) -> bytes | None:
    """The subject hash key in a migration: the one ``upgrade`` was given, else ``<SERVICE>_SUBJECT_HASH_KEY``."""
    given = context.config.attributes.get(SUBJECT_KEY_ATTRIBUTE)
    if given:
        return bytes(given)
    value = os.environ.get(f"{service.upper()}_SUBJECT_HASH_KEY")
    return value.encode() if value else None


def rekey_subject_refs(op: Any, key: bytes | None, columns: Iterable[RefColumn], *, service: str) -> int:
    """Replace every stored version 1 reference by its version 2 form for the row's tenant; how many distinct.

    A value that is not 64 lowercase hex characters is left alone (a label a client chose, ``authority:fr``,
    a customer id). The version 2 reference is ``rekey_v1(key, tenant, v1)``, an injective map per
    tenant: unique indexes on ``(tenant_id, subject_ref)`` stay unique. Alembic applies a revision
    once; there is no way back (the version 1 references are not kept).
    """
    from shared.rules.subjects import rekey_v1  # the pure scheme; imported here to keep start-up light

    columns = list(columns)
    connection: Connection = op.get_bind()
    connection.execute(
        text(
            "CREATE TEMPORARY TABLE subject_ref_rekey (tenant_id text NOT NULL, v1 text NOT NULL, v2 text, "
            "PRIMARY KEY (tenant_id, v1)) ON COMMIT DROP"
        )
    )
    for target in columns:
        connection.execute(
            text(f"INSERT INTO subject_ref_rekey (tenant_id, v1) {_stored(target)} ON CONFLICT DO NOTHING")
        )
    total = int(connection.scalar(text("SELECT count(*) FROM subject_ref_rekey")) or 0)
    if total and key is None:
        raise RuntimeError(
            f"{total} stored subject references must be re-keyed per tenant and no key was given: run "
            f"`privops migrate {service}` with {service.upper()}_SUBJECT_HASH_KEY set (the service's own key)"
        )
    after = ("", "")
    while total:
        rows = connection.execute(
            text(
                "SELECT tenant_id, v1 FROM subject_ref_rekey WHERE (tenant_id, v1) > (:tenant, :v1) "
                "ORDER BY tenant_id, v1 LIMIT :limit"
            ),
            {"tenant": after[0], "v1": after[1], "limit": _BATCH},
        ).all()
        if not rows:
            break
        assert key is not None
        tenants, v1s = [r[0] for r in rows], [r[1] for r in rows]
        v2s = [rekey_v1(key, tenant, v1) for tenant, v1 in zip(tenants, v1s, strict=True)]
        connection.execute(_FILL, {"tenants": tenants, "v1s": v1s, "v2s": v2s})
        after = (tenants[-1], v1s[-1])
    if total:
        for target in columns:
            _rewrite(connection, target)
    connection.execute(text("DROP TABLE subject_ref_rekey"))
    return total


_FILL = text(
    "UPDATE subject_ref_rekey AS m SET v2 = d.v2 FROM unnest(:tenants, :v1s, :v2s) AS d(tenant_id, v1, v2) "
    "WHERE m.tenant_id = d.tenant_id AND m.v1 = d.v1"
).bindparams(
    bindparam("tenants", type_=ARRAY(Text)), bindparam("v1s", type_=ARRAY(Text)), bindparam("v2s", type_=ARRAY(Text))
)


def _where(target: RefColumn) -> str:
    return f" AND ({target.where})" if target.where else ""


def _stored(target: RefColumn) -> str:
    """A SELECT of every distinct (tenant, reference) pair the column holds."""
    t, c = target.table, target.column
    if target.shape == "text":
        value, source = f"t.{c}", f"{t} AS t"
    elif target.shape == "array":
        value, source = "u.v", f"{t} AS t CROSS JOIN LATERAL unnest(t.{c}) AS u(v)"
    elif target.shape == "json_list":
        value, source = "u.v", f"{t} AS t CROSS JOIN LATERAL jsonb_array_elements_text({_json_array(c)}) AS u(v)"
    else:
        value, source = f"(t.{c} ->> {_literal(target)})", f"{t} AS t"
    return f"SELECT DISTINCT t.tenant_id, {value} FROM {source} WHERE {value} ~ '{_REF_PATTERN}'{_where(target)}"


def _json_array(column: str) -> str:
    """The column when it holds a JSON array, else an empty one (the element functions refuse anything else)."""
    return f"CASE WHEN jsonb_typeof(t.{column}) = 'array' THEN t.{column} ELSE '[]'::jsonb END"


def _literal(target: RefColumn) -> str:
    if not (target.key and target.key.isidentifier()):
        raise ValueError(f"json_key needs a plain key name, not {target.key!r}")
    return f"'{target.key}'"


def _rewrite(connection: Connection, target: RefColumn) -> None:
    t, c = target.table, target.column
    join = "m.tenant_id = t.tenant_id AND m.v1 = {value}"
    if target.shape == "text":
        statement = f"UPDATE {t} AS t SET {c} = m.v2 FROM subject_ref_rekey AS m WHERE {join.format(value=f't.{c}')}"
    elif target.shape == "json_key":
        key = _literal(target)
        statement = (
            f"UPDATE {t} AS t SET {c} = jsonb_set(t.{c}, ARRAY[{key}], to_jsonb(m.v2)) "
            f"FROM subject_ref_rekey AS m WHERE {join.format(value=f'(t.{c} ->> {key})')}"
        )
    elif target.shape == "array":
        on = join.format(value="u.v")
        statement = (
            f"UPDATE {t} AS t SET {c} = ARRAY(SELECT coalesce(m.v2, u.v) FROM unnest(t.{c}) WITH ORDINALITY AS u(v, i) "
            f"LEFT JOIN subject_ref_rekey AS m ON {on} ORDER BY u.i) "
            f"WHERE EXISTS (SELECT 1 FROM unnest(t.{c}) AS u(v) JOIN subject_ref_rekey AS m ON {on})"
        )
    else:
        element = "(u.e #>> '{}')"
        statement = (
            f"UPDATE {t} AS t SET {c} = (SELECT jsonb_agg(CASE WHEN m.v2 IS NULL THEN u.e ELSE to_jsonb(m.v2) END "
            f"ORDER BY u.i) FROM jsonb_array_elements(t.{c}) WITH ORDINALITY AS u(e, i) "
            f"LEFT JOIN subject_ref_rekey AS m ON jsonb_typeof(u.e) = 'string' AND {join.format(value=element)}) "
            f"WHERE EXISTS (SELECT 1 FROM jsonb_array_elements_text({_json_array(c)}) AS u(v) "
            f"JOIN subject_ref_rekey AS m ON {join.format(value='u.v')})"
        )
    statement += _where(target)
    if target.trigger:
        connection.execute(text(f"ALTER TABLE {t} DISABLE TRIGGER {target.trigger}"))
    connection.execute(text(statement))
    if target.trigger:
        connection.execute(text(f"ALTER TABLE {t} ENABLE TRIGGER {target.trigger}"))


def one_way(reason: str) -> None:
    """The body of ``downgrade`` for a migration that cannot be undone: refuse, saying why."""
    raise NotImplementedError(f"this migration is one-way: {reason}")
