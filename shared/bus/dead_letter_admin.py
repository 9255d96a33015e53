"""What a person does with dead letters: list and show them, replay one through its group, or discard it.

Each use case takes the unit of work of an admin request. A tenant's admin (``<service>:admin``)
sees its own tenant's dead letters only (another tenant's is a 404, like a missing one); a
platform operator (``platform:admin``) sees every tenant's, and is the only one to see those
whose tenant could not be read (a malformed record has none to trust).

A replay takes the path of a live event, in the request's transaction: the consumer group's own
runner decodes (and upcasts) the record and applies it with its inbox row, so an event the group
had applied already answers ``duplicate`` and changes nothing. A replay that fails again leaves
the dead letter open with the new reason, its attempt counted. Every replay and discard is audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from aiokafka import ConsumerRecord
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.bus.dead_letters import DeadLetter, DeadLetterError, DeadLetterState
from shared.rules.errors import Conflict, NotFound
from shared.runtime.uow import UnitOfWork

log = structlog.get_logger("privops.dead_letters")
OPERATOR_SCOPE = "platform:admin"


class Replayer(Protocol):
    """A consumer group able to apply a dead-lettered record again (``ConsumerRunner``)."""

    group: str

    async def replay(self, session: AsyncSession, record: ConsumerRecord[bytes, bytes]) -> str:
        """Apply ``record`` in ``session``'s transaction: applied, duplicate or ignored; raise when it fails."""
        ...


@dataclass(frozen=True)
class DeadLetterQuery:
    """Which dead letters to list: by group (its full id), state and event type, a page after an id."""

    group: str | None = None
    state: DeadLetterState | None = None
    event_type: str | None = None
    after: int = 0
    limit: int = 50


def is_operator(uow: UnitOfWork[Any]) -> bool:
    """True when the caller is a platform operator: every tenant's dead letters, and those of no known tenant."""
    return uow.principal is not None and uow.principal.has_scope(OPERATOR_SCOPE)


async def list_dead_letters(uow: UnitOfWork[Any], query: DeadLetterQuery) -> list[DeadLetter]:
    """The caller's dead letters matching ``query``, oldest first (the order to replay them in)."""
    statement = select(DeadLetter).where(col(DeadLetter.id) > query.after)
    if not is_operator(uow):
        statement = statement.where(col(DeadLetter.tenant_id) == uow.tenant_id)
    if query.group:
        statement = statement.where(col(DeadLetter.consumer_group) == query.group)
    if query.state:
        statement = statement.where(col(DeadLetter.state) == query.state.value)
    if query.event_type:
        statement = statement.where(col(DeadLetter.event_type) == query.event_type)
    return list((await uow.session.exec(statement.order_by(col(DeadLetter.id)).limit(query.limit))).all())


async def get_dead_letter(uow: UnitOfWork[Any], dead_letter_id: int, *, lock: bool = False) -> DeadLetter:
    """A dead letter the caller may see: 404 when missing or another tenant's (they look the same)."""
    row = await uow.session.get(DeadLetter, dead_letter_id, with_for_update=lock or None)
    if row is None or not (is_operator(uow) or (row.tenant_id is not None and row.tenant_id == uow.tenant_id)):
        raise NotFound(f"No dead letter {dead_letter_id} for this tenant.")
    return row


async def replay_dead_letter(
    uow: UnitOfWork[Any], groups: Mapping[str, Replayer], dead_letter_id: int
) -> tuple[DeadLetter, str]:
    """Apply a dead letter again through its group's handler and inbox; the row and the outcome.

    The outcome is applied, duplicate (the group had applied it), ignored (the group no longer
    takes that type) or failed (it stays open with the new reason). 409 when it was discarded, when
    its group does not run in this service, or when its record was not kept.
    """
    row = await get_dead_letter(uow, dead_letter_id, lock=True)  # one replay of a dead letter at a time
    if row.state == DeadLetterState.DISCARDED:
        raise Conflict(f"Dead letter {dead_letter_id} was discarded; a discarded event is not replayed.")
    replayer = groups.get(row.consumer_group)
    if replayer is None:
        raise Conflict(f"The consumer group {row.consumer_group} does not run in this service; it cannot replay.")
    if row.value is None:
        raise Conflict(
            f"Dead letter {dead_letter_id} kept no record (empty, or larger than 1 MB): "
            "read it from the dead-letter topic, or discard it."
        )
    now = uow.now()
    failure: DeadLetterError | None = None
    try:
        outcome = await replayer.replay(uow.session, row.record())
    except DeadLetterError as exc:
        outcome, failure = "failed", exc
    if row.state == DeadLetterState.OPEN:  # a row already replayed keeps its first outcome
        if failure is not None:
            row.reason, row.error = failure.reason, failure.error[:10_000]
            row.attempts += failure.attempts
            row.last_failed_at = now
        else:
            row.state, row.outcome = DeadLetterState.REPLAYED.value, outcome
            row.resolved_at, row.resolved_by = now, uow.actor
        uow.session.add(row)
        await uow.session.flush()
    detail = {"group": row.consumer_group, "event_id": row.event_id, "event_type": row.event_type, "outcome": outcome}
    if failure is not None:
        detail["reason"] = failure.reason
    _audited(uow, row).audit("dead_letter.replayed", "dead_letter", row.id, detail)
    log.info("dead_letter.replayed", dead_letter_id=row.id, group=row.consumer_group, outcome=outcome)
    return row, outcome


async def discard_dead_letter(uow: UnitOfWork[Any], dead_letter_id: int, reason: str) -> DeadLetter:
    """Give up on an open dead letter on purpose, saying why; 409 when it was replayed or discarded already."""
    row = await get_dead_letter(uow, dead_letter_id, lock=True)
    if row.state != DeadLetterState.OPEN:
        raise Conflict(f"Dead letter {dead_letter_id} is {row.state} already; only an open one is discarded.")
    row.state, row.discard_reason = DeadLetterState.DISCARDED.value, reason
    row.resolved_at, row.resolved_by = uow.now(), uow.actor
    uow.session.add(row)
    await uow.session.flush()
    detail = {"group": row.consumer_group, "event_id": row.event_id, "event_type": row.event_type, "reason": reason}
    _audited(uow, row).audit("dead_letter.discarded", "dead_letter", row.id, detail)
    log.info("dead_letter.discarded", dead_letter_id=row.id, group=row.consumer_group)
    return row


def _audited(uow: UnitOfWork[Any], row: DeadLetter) -> UnitOfWork[Any]:
    """The unit of work whose tenant the audit entry belongs to: the event's, else the operator's own."""
    return uow.for_tenant(row.tenant_id or uow.tenant_id)
