"""The end of a customer's contract: its states, the four-eyes rule, and when each stage may start.

At the end of a processing contract the processor deletes or returns all personal data, at the
controller's choice, and deletes existing copies: GDPR Art. 28(3)(g)
(https://eur-lex.europa.eu/eli/reg/2016/679/oj). The customer is a privops tenant. A contract end is
asked for by one person and confirmed by another (it cannot be undone); it runs from its effective
date. ``return_then_delete`` first exports everything (one package the customer downloads), and
deletion starts when the package has been downloaded or the return window has passed, whichever
comes first; ``delete`` deletes at once. It completes when every system's deletion task is closed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar

from services.dsar.domain.errors import DomainError


class ContractEndState(StrEnum):
    """Where a contract end stands."""

    REQUESTED = "requested"  # waiting for a second person's confirmation
    CONFIRMED = "confirmed"  # waiting for its effective date
    RETURNING = "returning"  # export tasks out; the package is built when they are all closed
    DELETING = "deleting"  # purge tasks out
    COMPLETED = "completed"  # every system closed; the certificate of destruction issued
    CANCELLED = "cancelled"


class ContractEndMode(StrEnum):
    """Return the data first, or delete it straight away (the controller's choice, Art. 28(3)(g))."""

    RETURN_THEN_DELETE = "return_then_delete"
    DELETE = "delete"


TRANSITIONS: dict[ContractEndState, frozenset[ContractEndState]] = {
    ContractEndState.REQUESTED: frozenset({ContractEndState.CONFIRMED, ContractEndState.CANCELLED}),
    ContractEndState.CONFIRMED: frozenset(
        {ContractEndState.RETURNING, ContractEndState.DELETING, ContractEndState.CANCELLED}
    ),
    ContractEndState.RETURNING: frozenset({ContractEndState.DELETING}),
    ContractEndState.DELETING: frozenset({ContractEndState.COMPLETED}),
    ContractEndState.COMPLETED: frozenset(),
    ContractEndState.CANCELLED: frozenset(),
}


class SameApprover(DomainError):
    """The person confirming a contract end is the one who asked for it (four eyes)."""

    code = "four-eyes"
    title = "A second person must confirm"
    status: ClassVar[int] = 403


class ContractEndConflict(DomainError):
    """A contract end cannot move from its current state to the one asked for."""

    code = "illegal-transition"
    title = "Illegal contract-end state transition"
    status: ClassVar[int] = 409


def transition(current: ContractEndState, target: ContractEndState) -> ContractEndState:
    """``target`` when a contract end in ``current`` may move there; else 409."""
    if target not in TRANSITIONS[current]:
        raise ContractEndConflict(f"A contract end that is {current.value} cannot become {target.value}.")
    return target


def confirm(state: ContractEndState, requested_by: str, confirmed_by: str) -> ContractEndState:
    """The state after a confirmation: only a different person may confirm a requested contract end."""
    if requested_by == confirmed_by:
        raise SameApprover(f"{confirmed_by} asked for this contract end; a second person must confirm it.")
    return transition(state, ContractEndState.CONFIRMED)


def first_stage(mode: ContractEndMode) -> ContractEndState:
    """The stage a confirmed contract end starts with on its effective date."""
    return ContractEndState.RETURNING if mode is ContractEndMode.RETURN_THEN_DELETE else ContractEndState.DELETING


def due_to_start(state: ContractEndState, effective_at: datetime, now: datetime) -> bool:
    """True when a confirmed contract end's effective date has come."""
    return state is ContractEndState.CONFIRMED and effective_at <= now


def return_deadline(package_built_at: datetime, window: timedelta) -> datetime:
    """When deletion starts even if the customer never downloaded the returned data."""
    return package_built_at + window


def deletion_may_start(
    exports_open: int,
    package_built_at: datetime | None,
    downloaded_at: datetime | None,
    window: timedelta,
    now: datetime,
) -> bool:
    """True when the return is over: every export is in, the package built, and downloaded or its window passed."""
    if exports_open or package_built_at is None:
        return False
    return downloaded_at is not None or now >= return_deadline(package_built_at, window)


def outcome(task_outcomes: list[str | None], closed_by_hand: int) -> str:
    """``complete`` when every system destroyed everything; ``partial`` when one kept data or a person closed it."""
    kept = any(o in ("exempt", "unsupported") for o in task_outcomes)
    return "partial" if kept or closed_by_hand else "complete"
