"""Fan-out rules: which store action answers which right, what a request's outcome is, who closes a task by hand."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

from .errors import DomainError
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


# Closing and retrying a task by hand. A manual system (a paper archive, a tool without an API) has no
# store to answer its tasks: the person who carried one out closes it with their evidence, which the
# certificate of erasure keeps (the controller must be able to demonstrate compliance, GDPR Art. 5(2),
# https://eur-lex.europa.eu/eli/reg/2016/679/oj). A store's task is closed by hand only by an admin,
# with a reason, and may be re-published by an admin.
HAND_OUTCOMES = frozenset({TaskOutcome.DONE, TaskOutcome.NO_DATA, TaskOutcome.EXEMPT})


class TaskRuleBroken(DomainError):
    """A task cannot be closed or retried as asked; subclasses say why."""

    code = "task-rule-broken"
    title = "Task rule broken"


class TaskNeedsAdmin(TaskRuleBroken):
    """Only an admin (``dsar:admin``) closes the task of a system that answers through its API."""

    code = "task-needs-admin"
    title = "This task is closed by a store or an admin"
    status = 403


class TaskNotOpen(TaskRuleBroken):
    """The task is already closed (or cancelled with its request)."""

    code = "task-not-open"
    title = "Task not open"
    status = 409


class TaskNotRetryable(TaskRuleBroken):
    """The task cannot be published again: a manual task, an answered one, or its request is over."""

    code = "task-not-retryable"
    title = "Task cannot be retried"
    status = 409


class InvalidTaskClose(TaskRuleBroken):
    """The close is missing what the task needs: a reason, or the records of an export."""

    code = "invalid-task-close"
    title = "Invalid task close"

    def __init__(self, detail: str, field: str) -> None:
        super().__init__(detail)
        self.field = field


def check_close(
    *,
    state: str,
    manual: bool,
    admin: bool,
    action: TaskAction | str,
    outcome: TaskOutcome | str,
    reason: str | None,
    has_records: bool,
) -> None:
    """Whether a person may close this task by hand: a manual task with write, any open task with admin.

    A store's task needs the reason why a person answers in its place. An access or portability task
    closed as done carries the records found (they go into the subject's package); no other task does.
    """
    if not manual and not admin:
        raise TaskNeedsAdmin(
            "A task of a system with an API is answered by its store; closing it by hand needs dsar:admin."
        )
    if state != "open":
        raise TaskNotOpen(f"The task is {state}; it can no longer be closed.")
    if not manual and not (reason and reason.strip()):
        raise InvalidTaskClose("An admin closing a store's task by hand gives the reason.", "reason")
    if TaskOutcome(outcome) not in HAND_OUTCOMES:
        raise InvalidTaskClose(f"A task is closed by hand as {', '.join(sorted(HAND_OUTCOMES))}.", "outcome")
    exporting = TaskAction(action) in EXPORTING
    if exporting and TaskOutcome(outcome) is TaskOutcome.DONE and not has_records:
        raise InvalidTaskClose(
            f"A {action} task closed as done carries the records found, for the subject's package "
            "(or close it as no_data).",
            "records",
        )
    if has_records and not exporting:
        raise InvalidTaskClose(f"Records are kept for access and portability tasks only, not {action}.", "records")


def check_retry(*, state: str, outcome: str | None, manual: bool, request_in_progress: bool) -> None:
    """Whether an admin may publish a task again: an open (silent or escalated) or failed task of a running request."""
    if manual:
        raise TaskNotRetryable("A manual task is not published (no store consumes it): it is closed by hand.")
    if state == "open":
        return
    if state == "closed" and outcome == TaskOutcome.FAILED.value:
        if request_in_progress:
            return
        raise TaskNotRetryable("The task failed, but its request is already over; open a new request.")
    raise TaskNotRetryable(f"The task is {state} ({outcome or 'no outcome'}); only open or failed tasks are retried.")
