"""The admin API every service gets from the factory: its consumer groups' dead letters, to see and replay.

``GET /v1/admin/dead-letters`` (filters: group, state, type; a page after an id), ``GET …/{id}``,
``POST …/{id}/replay`` and ``POST …/{id}/discard``. The caller needs ``<service>:admin`` (its
tenant's dead letters) or ``platform:admin`` (a platform operator: every tenant's, and those of no
known tenant). Use cases in ``shared.bus.dead_letter_admin``.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from shared.bus.consumer import ConsumerRunner
from shared.bus.dead_letter_admin import (
    OPERATOR_SCOPE,
    DeadLetterQuery,
    discard_dead_letter,
    get_dead_letter,
    list_dead_letters,
    replay_dead_letter,
)
from shared.bus.dead_letters import DeadLetter, DeadLetterState
from shared.rules.errors import Forbidden
from shared.runtime.auth import Principal, authenticate
from shared.runtime.db import SessionDep
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.uow import UnitOfWork
from shared.runtime.views import from_row

MAX_PAGE = 500
MAX_ID = 2**63 - 1  # a bigint
DeadLetterId = Annotated[int, Path(ge=1, le=MAX_ID)]


async def admin_unit_of_work(
    request: Request, session: SessionDep, principal: Annotated[Principal, Depends(authenticate)]
) -> UnitOfWork[Any]:
    """The request's unit of work once the caller holds ``<service>:admin`` or ``platform:admin`` (401/403)."""
    state = request.app.state
    needed = f"{state.settings.service_name}:admin"
    if not (principal.has_scope(needed) or principal.has_scope(OPERATOR_SCOPE)):
        raise Forbidden(
            f"Dead letters need the scope {needed} (or {OPERATOR_SCOPE}).", required_scopes=[needed, OPERATOR_SCOPE]
        )
    return UnitOfWork(session, state.settings, state.clock, principal.tenant_id, principal.subject, principal)


AdminUow = Annotated[UnitOfWork[Any], Depends(admin_unit_of_work)]


def consumer_groups(request: Request) -> dict[str, ConsumerRunner]:
    """The service's consumer groups by their full group id (``app.state.runtime``)."""
    return {runner.group: runner for runner in request.app.state.runtime.consumers}


class DeadLetterOut(BaseModel):
    """A dead letter: which event, which group gave up on it and why, and what became of it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    group: str = Field(validation_alias="consumer_group", description="The consumer group id")
    state: DeadLetterState
    event_id: str | None = Field(description="None when the record was not a readable CloudEvent")
    event_type: str | None
    source: str | None
    subject: str | None
    tenant_id: str | None = Field(description="None when unknown: then only a platform operator sees it")
    reason: str = Field(description="Why: too_large, malformed, unknown_type, invalid_data, handler_rejected, …")
    error: str
    attempts: int = Field(description="Attempts to apply it, the replays that failed included")
    topic: str
    partition: int
    offset: int
    failed_at: datetime = Field(description="The first failure")
    last_failed_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None
    outcome: str | None = Field(description="Of the replay that resolved it: applied, duplicate or ignored")
    discard_reason: str | None


class DeadLetterDetail(DeadLetterOut):
    """A dead letter with its record: the headers as received and the data."""

    headers: dict[str, str]
    data: Any | None = Field(default=None, description="The record's value as JSON, when it is")
    value_base64: str | None = Field(default=None, description="The record's value when it is not JSON")

    @classmethod
    def of(cls, row: DeadLetter) -> DeadLetterDetail:
        """The detail of ``row``, its value shown as JSON when it is JSON."""
        data, raw = None, None
        if row.value is not None:
            try:
                data = json.loads(row.value)
            except ValueError:
                raw = base64.b64encode(row.value).decode()
        return cls.model_validate(row).model_copy(update={"data": data, "value_base64": raw})


class DeadLetterPage(BaseModel):
    """A page of dead letters, oldest first; ``next_after`` asks for the next one (None at the end)."""

    items: list[DeadLetterOut]
    next_after: int | None


class ReplayOut(BaseModel):
    """What a replay did: applied, duplicate (applied before: nothing changed), ignored, or failed (still open)."""

    outcome: Literal["applied", "duplicate", "ignored", "failed"]
    dead_letter: DeadLetterOut


class DiscardIn(BaseModel):
    """Why an open dead letter is given up on (kept and audited)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "test event, never valid"}]})

    reason: str = Field(min_length=1, max_length=1000)


def dead_letters_router() -> APIRouter:
    """The dead-letter admin routes of a service."""
    router = APIRouter(prefix="/v1/admin/dead-letters", tags=["dead letters"], responses=PROBLEM_RESPONSES)

    @router.get("", response_model=DeadLetterPage, summary="List dead letters")
    async def list_(
        request: Request,
        uow: AdminUow,
        group: Annotated[str | None, Query(max_length=255, description="Subscription name or group id")] = None,
        state: DeadLetterState | None = None,
        event_type: Annotated[str | None, Query(alias="type", max_length=255)] = None,
        after: Annotated[int, Query(ge=0, le=MAX_ID, description="Ids after this one (next_after)")] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    ) -> DeadLetterPage:
        """The events this service's consumer groups gave up on, with the reason, oldest first."""
        names = {runner.subscription.name: group_id for group_id, runner in consumer_groups(request).items()}
        query = DeadLetterQuery(names.get(group or "", group), state, event_type, after, limit)
        rows = await list_dead_letters(uow, query)
        items = [from_row(DeadLetterOut, row) for row in rows]
        return DeadLetterPage(items=items, next_after=items[-1].id if len(items) == limit else None)

    @router.get("/{dead_letter_id}", response_model=DeadLetterDetail, summary="Read one dead letter")
    async def show(dead_letter_id: DeadLetterId, uow: AdminUow) -> DeadLetterDetail:
        """One dead letter with its headers and data; 404 when missing or another tenant's."""
        return DeadLetterDetail.of(await get_dead_letter(uow, dead_letter_id))

    @router.post("/{dead_letter_id}/replay", response_model=ReplayOut, summary="Apply a dead letter again")
    async def replay(request: Request, dead_letter_id: DeadLetterId, uow: AdminUow) -> ReplayOut:
        """Through the group's own handler and inbox, as a live event: never applied twice (``duplicate``)."""
        row, outcome = await replay_dead_letter(uow, consumer_groups(request), dead_letter_id)
        return ReplayOut(outcome=outcome, dead_letter=DeadLetterOut.model_validate(row))  # type: ignore[arg-type]

    @router.post("/{dead_letter_id}/discard", response_model=DeadLetterOut, summary="Give up on a dead letter")
    async def discard(dead_letter_id: DeadLetterId, body: DiscardIn, uow: AdminUow) -> DeadLetterOut:
        """Mark an open dead letter discarded, by whom and why; 409 when it is not open."""
        return DeadLetterOut.model_validate(await discard_dead_letter(uow, dead_letter_id, body.reason))

    return router
