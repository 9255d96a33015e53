"""Every service's migrations produce exactly its models; jobs claim work without stepping on each other."""

from __future__ import annotations

import asyncio
import importlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col, select

from services.retention.models import SubjectSchedule
from shared.runtime.db import Database
from shared.runtime.jobs import claim
from shared.runtime.migrations import target_metadata
from tests.support.stack import SERVICES, Infra

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_the_models(infra: Infra, service: str) -> None:
    metadata = importlib.import_module(f"services.{service}.models").metadata
    engine = create_async_engine(infra.fresh_database(service))
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), target_metadata(metadata)
                )
            )
            # What the models cannot say: packed outbox payloads arrive compressed and are stored as they are.
            storage = await conn.scalar(text(PAYLOAD_STORAGE))
    finally:
        await engine.dispose()
    assert diff == [], f"{service}: models and migrations differ; run `privops make-migration {service}`: {diff}"
    assert storage == "e", f"{service}: outbox payloads would be compressed again by PostgreSQL"


PAYLOAD_STORAGE = (
    "SELECT attstorage::text FROM pg_attribute WHERE attrelid = 'outbox'::regclass AND attname = 'payload'"
)


async def test_concurrent_claims_never_take_the_same_row(infra: Infra) -> None:
    database = Database(infra.fresh_database("retention"), pool_size=4)
    now = datetime(2026, 3, 2, tzinfo=UTC)
    async with database.session() as session:
        for i in range(40):
            session.add(
                SubjectSchedule(
                    tenant_id="acme",
                    subject_ref=f"ref-{i}",
                    category="consent:newsletter",
                    reason="test",
                    due_at=now - timedelta(days=1),
                    event_at=now,
                    created_at=now,
                )
            )
    claimed: list[list[uuid.UUID]] = []
    gate = asyncio.Event()

    async def worker() -> None:
        async with database.session() as session:
            statement = select(SubjectSchedule).where(
                col(SubjectSchedule.due_at) <= now, col(SubjectSchedule.status) == "pending"
            )
            rows = await claim(session, statement.order_by(col(SubjectSchedule.due_at)), limit=15)
            claimed.append([r.id for r in rows])
            await gate.wait()  # hold the locks while the others claim
            for row in rows:
                row.status = "done"
                session.add(row)

    tasks = [asyncio.create_task(worker()) for _ in range(3)]
    while len(claimed) < 3:
        await asyncio.sleep(0.01)
    gate.set()
    await asyncio.gather(*tasks)
    await database.dispose()
    all_ids = [i for batch in claimed for i in batch]
    assert len(all_ids) == len(set(all_ids)) == 40
    assert sorted(len(batch) for batch in claimed) == [10, 15, 15]
