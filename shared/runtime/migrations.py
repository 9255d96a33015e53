"""Alembic, one migration tree per service (``services/<name>/migrations``), driven from code.

Each tree's ``env.py`` is three lines calling ``run_env`` with the service's metadata; the
platform tables (outbox, inbox, dead letters, audit log) come from SQLModel's default metadata
and are part of every service's schema.
"""

from __future__ import annotations

import asyncio

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from shared.bus import consumer, outbox  # noqa: F401

# Imported for their side effect: the platform tables join SQLModel.metadata.
from shared.runtime import audit  # noqa: F401


def alembic_config(service: str, database_url: str) -> Config:
    """An Alembic configuration for ``service`` against ``database_url`` (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", f"services.{service}:migrations")
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    return cfg


def upgrade(service: str, database_url: str, revision: str = "head") -> None:
    """Apply ``service``'s migrations up to ``revision`` (blocking; call from a thread inside an event loop)."""
    command.upgrade(alembic_config(service, database_url), revision)


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
