"""Fan-out rules: which store action answers which right, and what a request's outcome is."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

from .requests import RequestType


class TaskAction(StrEnum):
    """What a data store is asked to do with one subject's data."""

    ACCESS = "access"
    ERASE = "erase"
    RECTIFY = "rectify"
    RESTRICT = "restrict"
    LIFT_RESTRICTION = "lift_restriction"
    OBJECT = "object"
    PORTABILITY = "portability"


class TaskOutcome(StrEnum):
    """How a store closed a task."""

    DONE = "done"
    NO_DATA = "no_data"
    EXEMPT = "exempt"
    FAILED = "failed"


ACTION_FOR_TYPE: dict[RequestType, TaskAction] = {
    RequestType.ACCESS: TaskAction.ACCESS,
    RequestType.RECTIFICATION: TaskAction.RECTIFY,
    RequestType.ERASURE: TaskAction.ERASE,
    RequestType.RESTRICTION: TaskAction.RESTRICT,
    RequestType.LIFT_RESTRICTION: TaskAction.LIFT_RESTRICTION,
    RequestType.PORTABILITY: TaskAction.PORTABILITY,
    RequestType.OBJECTION: TaskAction.OBJECT,
}

# Art. 19: the controller tells each recipient of the data about a rectification or an erasure
# (and a restriction) unless impossible or disproportionate.
NOTIFIES_RECIPIENTS = frozenset({TaskAction.RECTIFY, TaskAction.ERASE, TaskAction.RESTRICT})
EXPORTING = frozenset({TaskAction.ACCESS, TaskAction.PORTABILITY})


def action_for(request_type: RequestType | str) -> TaskAction:
    """The store action that carries out a request of this type."""
    return ACTION_FOR_TYPE[RequestType(request_type)]


def task_due_at(now: datetime, request_due_at: datetime, days: int) -> datetime:
    """When a store must answer: ``days`` from now, never after the request's legal due time.

    A request entered after its legal due time is overdue already (and said so): its stores still get
    their ``days``, rather than a due time in the past that escalates every task before it is read.
    """
    own = now + timedelta(days=days)
    return own if request_due_at <= now else min(own, request_due_at)


def retry_delay(timeout_s: float, attempt: int) -> timedelta:
    """Back-off before re-publishing a task whose ``attempt``-th publication was not acknowledged."""
    return timedelta(seconds=timeout_s * (2 ** max(0, attempt - 1)))


def request_outcome(results: Iterable[tuple[str | None, str | None]]) -> str:
    """``partial`` when a task failed, was exempt, or kept data under an exemption; else ``complete``.

    ``results`` are (outcome, exemption) pairs of the closed tasks (cancelled tasks have no outcome).
    """
    partial = {TaskOutcome.FAILED.value, TaskOutcome.EXEMPT.value}
    return "partial" if any(o in partial or e for o, e in results) else "complete"
