"""The unit of work every use case takes: one tenant's transaction, by one actor, at one clock.

A route gets it from ``unit_of_work(scope)`` (a FastAPI dependency; each service names its
read, write and admin variants as ``Annotated`` aliases in ``api/deps.py``), a Kafka handler
from ``EventContext.unit_of_work``, a job from ``JobContext.unit_of_work``. Use cases stage
events and audit entries through it and only ``flush()``: whoever built it commits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import asyncpg
from fastapi import Request
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.bus.outbox import stage, stage_many
from shared.events.catalogue import Event
from shared.events.envelope import CloudEvent
from shared.rules.clock import Clock
from shared.runtime import audit
from shared.runtime.auth import Credentials, Principal, principal_of, scope_check
from shared.runtime.db import ReadOnlyViolation, SessionDep, lazy_read_session
from shared.runtime.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


@dataclass
class UnitOfWork(Generic[S]):
    """One transaction of one tenant, by one actor (a person or client, an event, a job)."""

    session: AsyncSession
    settings: S
    clock: Clock
    tenant_id: str
    actor: str
    principal: Principal | None = None
    # A read-only unit (``unit_of_work(..., read_only=True)``) runs without a transaction and refuses writes.
    read_only: bool = False
    # The database's direct pool, where a read-only unit reads its rows by key (``shared.runtime.rows``).
    direct: asyncpg.Pool | None = None

    def now(self) -> datetime:
        """The current instant from the injected clock."""
        return self.clock.now()

    def url(self, path: str) -> str:
        """An absolute URL of this service."""
        return self.settings.public_url.rstrip("/") + path

    async def stage(self, event: Event, subject: str | None) -> CloudEvent:
        """Stage ``event`` in the outbox: it leaves only if this unit of work commits."""
        self._writable()
        return await stage(
            self.session,
            event,
            tenant_id=self.tenant_id,
            subject=subject,
            clock=self.clock,
            service=self.settings.service_name,
        )

    async def stage_many(self, events: Iterable[tuple[Event, str | None]], *, packed: bool = False) -> int:
        """Stage many ``(event, subject)`` pairs with one COPY, in order (``packed`` for bulk paths)."""
        self._writable()
        return await stage_many(
            self.session,
            events,
            tenant_id=self.tenant_id,
            clock=self.clock,
            service=self.settings.service_name,
            packed=packed,
        )

    def audit(self, action: str, entity_type: str, entity_id: Any, detail: dict[str, Any] | None = None) -> None:
        """Append an audit entry by this unit's actor (never a raw identifier in ``detail``)."""
        self._writable()
        audit.record(
            self.session,
            tenant_id=self.tenant_id,
            actor=self.actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            clock=self.clock,
            detail=detail,
        )

    async def audit_many(self, entries: Sequence[tuple[str, str, Any, dict[str, Any] | None]]) -> None:
        """Append many ``(action, entity_type, entity_id, detail)`` entries with one COPY."""
        self._writable()
        await audit.record_many(
            self.session,
            [
                audit.entry_values(
                    tenant_id=self.tenant_id,
                    actor=self.actor,
                    action=action,
                    entity_type=entity_type,
                    entity_id=entity_id,
                    clock=self.clock,
                    detail=detail,
                )
                for action, entity_type, entity_id, detail in entries
            ],
        )

    def for_tenant(self, tenant_id: str, actor: str | None = None) -> UnitOfWork[S]:
        """The same transaction and clock acting for ``tenant_id`` (a batch of many tenants' events, a public link)."""
        return UnitOfWork(
            self.session,
            self.settings,
            self.clock,
            tenant_id,
            actor or self.actor,
            self.principal,
            self.read_only,
            self.direct,
        )

    def _writable(self) -> None:
        if self.read_only:
            raise ReadOnlyViolation("a read-only unit of work cannot write")


def unit_of_work(scope: str, *alternatives: str, read_only: bool = False) -> Callable[..., Awaitable[UnitOfWork[Any]]]:
    """A FastAPI dependency: the request's unit of work once the caller holds ``scope`` (401/403 otherwise).

    With ``alternatives``, any one of the scopes will do; the route then checks what the one held allows.
    ``read_only`` units (the services' ``ReadUow``) read without opening a transaction (no ``BEGIN`` and
    ``COMMIT`` round trips) and refuse any write.
    """
    check = scope_check(scope, *alternatives, any_of=True)
    if read_only:

        async def read_dependency(request: Request, credentials: Credentials) -> UnitOfWork[Any]:
            principal = check(await principal_of(request, credentials))
            state = request.app.state
            return UnitOfWork(
                lazy_read_session(request),
                state.settings,
                state.clock,
                principal.tenant_id,
                principal.subject,
                principal,
                True,
                state.database.direct,
            )

        read_dependency.__name__ = "read_unit_of_work_" + "_or_".join(
            s.replace(":", "_") for s in (scope, *alternatives)
        )
        return read_dependency

    # The token is checked here rather than in a sub-dependency: each level of the tree is solved anew
    # on every request (``shared.runtime.auth.authorised``).
    async def dependency(request: Request, session: SessionDep, credentials: Credentials) -> UnitOfWork[Any]:
        principal = check(await principal_of(request, credentials))
        state = request.app.state
        return UnitOfWork(session, state.settings, state.clock, principal.tenant_id, principal.subject, principal)

    dependency.__name__ = "unit_of_work_" + "_or_".join(s.replace(":", "_") for s in (scope, *alternatives))
    return dependency


def public_unit_of_work(actor: str) -> Callable[..., Awaitable[UnitOfWork[Any]]]:
    """A FastAPI dependency for a route without a bearer token (a download link, a public page).

    Its tenant is empty: the route finds the tenant from what it was given (the path, a link's
    token) and acts through ``uow.for_tenant(tenant, actor)``.
    """

    async def dependency(request: Request, session: SessionDep) -> UnitOfWork[Any]:
        state = request.app.state
        return UnitOfWork(session, state.settings, state.clock, "", actor)

    dependency.__name__ = "public_unit_of_work_" + actor.replace(":", "_").replace("-", "_")
    return dependency
