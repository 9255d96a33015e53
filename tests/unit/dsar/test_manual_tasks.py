"""Tasks by hand: who may close or retry which task, what a close must carry, how a manual system registers."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from services.dsar.domain.tasks import (
    InvalidTaskClose,
    TaskAction,
    TaskNeedsAdmin,
    TaskNotOpen,
    TaskNotRetryable,
    check_close,
    check_retry,
)
from services.dsar.schemas import SystemIn, TaskCloseIn, TaskRetryIn


def close(**overrides: Any) -> None:
    """``check_close`` for an open manual erase task closed as done by a writer, with ``overrides``."""
    values: dict[str, Any] = {
        "state": "open",
        "manual": True,
        "admin": False,
        "action": "erase",
        "outcome": "done",
        "reason": None,
        "has_records": False,
    }
    check_close(**(values | overrides))


def test_a_writer_closes_a_manual_task_and_an_admin_any_open_task_with_a_reason() -> None:
    close()
    close(admin=True)
    close(manual=False, admin=True, reason="The store was decommissioned; rows deleted by the DBA.")
    with pytest.raises(TaskNeedsAdmin) as needs_admin:
        close(manual=False, reason="I would like to")
    assert needs_admin.value.status == 403
    with pytest.raises(InvalidTaskClose) as no_reason:
        close(manual=False, admin=True)
    assert (no_reason.value.field, no_reason.value.status) == ("reason", 422)
    with pytest.raises(InvalidTaskClose):
        close(manual=False, admin=True, reason="   ")


@pytest.mark.parametrize("state", ["closed", "cancelled"])
def test_a_task_that_is_no_longer_open_cannot_be_closed(state: str) -> None:
    with pytest.raises(TaskNotOpen) as closed:
        close(state=state)
    assert closed.value.status == 409
    with pytest.raises(TaskNotOpen):
        close(state=state, manual=False, admin=True, reason="again")
    # A writer on a store's task learns it may not act, whatever the task's state.
    with pytest.raises(TaskNeedsAdmin):
        close(state=state, manual=False)


def test_an_export_task_closed_as_done_carries_the_records_and_no_other_task_does() -> None:
    for action in (TaskAction.ACCESS, TaskAction.PORTABILITY):
        close(action=action, has_records=True)
        close(action=action, outcome="no_data")
        with pytest.raises(InvalidTaskClose) as missing:
            close(action=action)
        assert missing.value.field == "records"
    with pytest.raises(InvalidTaskClose) as extra:
        close(action="erase", has_records=True)
    assert extra.value.field == "records"
    with pytest.raises(InvalidTaskClose) as failed:
        close(outcome="failed")
    assert failed.value.field == "outcome"


def test_an_open_escalated_or_failed_store_task_is_retried_never_a_manual_or_answered_one() -> None:
    check_retry(state="open", outcome=None, manual=False, request_in_progress=True)
    check_retry(state="closed", outcome="failed", manual=False, request_in_progress=True)
    refused = [
        {"state": "open", "outcome": None, "manual": True, "request_in_progress": True},
        {"state": "closed", "outcome": "done", "manual": True, "request_in_progress": True},
        {"state": "closed", "outcome": "done", "manual": False, "request_in_progress": True},
        {"state": "closed", "outcome": "exempt", "manual": False, "request_in_progress": True},
        {"state": "cancelled", "outcome": None, "manual": False, "request_in_progress": False},
        {"state": "closed", "outcome": "failed", "manual": False, "request_in_progress": False},
    ]
    for case in refused:
        with pytest.raises(TaskNotRetryable) as error:
            check_retry(**case)
        assert error.value.status == 409, case
    with pytest.raises(TaskNotRetryable, match="closed by hand"):
        check_retry(state="open", outcome=None, manual=True, request_in_progress=True)


def test_a_close_states_the_evidence_and_the_legal_reason_of_an_exemption() -> None:
    done = TaskCloseIn(outcome="done", records_affected=2, evidence="  File shredded, slip S-1.  ")
    assert done.evidence == "File shredded, slip S-1." and done.reason is None
    exempt = {"outcome": "exempt", "exemption": "Art. 17(3)(b): invoices kept 10 years", "evidence": "Checked."}
    assert TaskCloseIn(**exempt).exemption
    bad: list[dict[str, Any]] = [
        {"outcome": "done"},  # no evidence
        {"outcome": "done", "evidence": "   "},
        {"outcome": "exempt", "evidence": "Checked."},  # no legal reason
        {"outcome": "exempt", "evidence": "Checked.", "exemption": " "},
        {"outcome": "failed", "evidence": "Checked."},
        {"outcome": "done", "evidence": "Checked.", "records_affected": -1},
        {"outcome": "done", "evidence": "Checked.", "unknown": 1},
    ]
    for body in bad:
        with pytest.raises(ValidationError):
            TaskCloseIn(**body)
    with pytest.raises(ValidationError):
        TaskRetryIn(reason="")


def test_a_manual_system_takes_every_action_unless_it_lists_some_and_says_how() -> None:
    archive = SystemIn(name="Paper archive", owner="facilities", manual=True, instructions="Room 3B, by surname.")
    assert set(archive.actions) == set(TaskAction)
    erase_only = SystemIn(name="Archive", owner="f", manual=True, instructions="Room 3B.", actions=["erase"])
    assert erase_only.actions == [TaskAction.ERASE]
    with pytest.raises(ValidationError, match="instructions"):
        SystemIn(name="Archive", owner="f", manual=True)
    with pytest.raises(ValidationError, match="actions"):
        SystemIn(name="CRM", owner="sales")  # a system with an API lists what it answers
    assert SystemIn(name="CRM", owner="sales", actions=["erase"]).manual is False
