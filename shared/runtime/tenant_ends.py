"""Ended tenants: once a customer's contract has ended, its people's and clients' tokens are refused everywhere.

Tokens are verified offline (a signature and an expiry), so disabling the tenant's clients and
accounts at the identity service stops new tokens only. Every service therefore records the end
(``ended_tenant``, from ``io.privops.dsar.contract_end.completed``, in one consumer group per service)
and every process, API-only ones included, reloads that small table every few seconds into its token
verifier, which then refuses any token of the tenant's own principals: a privops service's
(``service:<name>``: it finishes the job, e.g. the certificate's signature) and a platform client's (a
``platform`` claim: the operator still reads the evidence) are accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import Column, String
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.bus.subscription import EventContext, Subscription
from shared.events.catalogue.contract_ends import ContractEndCompleted
from shared.runtime.db import Database, UTCDateTime

log = structlog.get_logger("privops.tenant_ends")
REFRESH_S = 5.0


class EndedTenant(SQLModel, table=True):
    """A tenant whose contract has ended: its tokens are refused (kept as long as the service)."""

    __tablename__ = "ended_tenant"

    tenant_id: str = Field(sa_column=Column(String(64), primary_key=True))
    ended_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    contract_end_id: uuid.UUID


async def record_end(session: AsyncSession, event: ContractEndCompleted, ctx: EventContext) -> None:
    """Record that the event's tenant has ended (once)."""
    await session.exec(
        insert(EndedTenant)
        .values(tenant_id=ctx.tenant_id, ended_at=event.completed_at, contract_end_id=event.contract_end_id)
        .on_conflict_do_nothing()
    )
    log.info("tenant.ended", tenant=ctx.tenant_id)


def tenant_ends_subscription() -> Subscription:
    """The consumer group every service runs to learn which tenants have ended."""
    return Subscription(name="tenant-ends", handlers={ContractEndCompleted: record_end}, batched=True)


async def ended_tenants(database: Database) -> set[str]:
    """The tenants recorded as ended in the service's database."""
    async with database.session() as session:
        return set((await session.exec(select(EndedTenant.tenant_id))).all())


async def keep_refreshed(database: Database, state: Any, interval_s: float = REFRESH_S) -> None:
    """Reload the ended tenants into ``state.token_verifier`` every ``interval_s`` until cancelled."""
    while True:
        with contextlib.suppress(Exception):  # the database is away: the last set stays until it answers
            ended = await ended_tenants(database)
            verifier = getattr(state, "token_verifier", None)
            if verifier is not None and ended != verifier.ended_tenants:
                verifier.ended_tenants = ended
                log.info("tenant.ends_loaded", tenants=len(ended))
        await asyncio.sleep(interval_s)
