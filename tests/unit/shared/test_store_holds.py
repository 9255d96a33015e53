"""A privops service as a store: a legal hold on everything is answered exempt without touching its data."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.bus.store import StoreResult, TaskInput, dsar_task_subscription
from shared.events.catalogue import Event
from shared.events.catalogue.dsar import DsarTaskCompleted, DsarTaskRequested, TaskHold

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOLD_ID = uuid.UUID("7c9e6679-7425-40de-944b-e07fc1f90ae7")


@dataclass
class FakeUow:
    """What the subscription's handler uses of its unit of work: the clock and the outbox."""

    staged: list[tuple[Event, str | None]] = field(default_factory=list)

    def now(self) -> datetime:
        return NOW

    async def stage(self, event: Event, subject: str | None = None) -> None:
        self.staged.append((event, subject))


@dataclass
class FakeContext:
    uow: FakeUow
    tenant_id: str = "acme"

    def unit_of_work(self, session: Any, actor: str | None = None) -> FakeUow:
        return self.uow


class Erasing:
    """A service's store that would erase everything it is asked to."""

    def __init__(self) -> None:
        self.erased: list[TaskInput] = []

    async def erase(self, uow: Any, task: TaskInput) -> StoreResult:
        self.erased.append(task)
        return StoreResult("done", records_affected=2)


async def answer(actions: Erasing, *holds: TaskHold) -> DsarTaskCompleted:
    subscription = dsar_task_subscription("privops-consent", actions)  # type: ignore[arg-type]
    event = DsarTaskRequested(
        task_id=uuid.uuid4(),
        request_id=uuid.uuid4(),
        action="erase",
        system="privops-consent",
        subject_ref="ref-ada",
        claim_url="http://dsar.test/v1/tasks/t/claim",
        due_at=NOW + timedelta(days=7),
        holds=list(holds),
    )
    ctx = FakeContext(FakeUow())
    await subscription.handlers[DsarTaskRequested](None, event, ctx)  # type: ignore[arg-type]
    ((result, subject),) = ctx.uow.staged
    assert isinstance(result, DsarTaskCompleted)
    assert subject == "ref-ada"
    return result


async def test_a_hold_on_the_person_keeps_everything_and_names_the_hold() -> None:
    actions = Erasing()
    held = TaskHold(hold_id=HOLD_ID, reason="litigation case 12", subject_ref="ref-ada", placed_at=NOW)
    result = await answer(actions, held)
    assert actions.erased == []
    assert (result.outcome, result.records_affected) == ("exempt", 0)
    assert result.exemption == f"legal hold {HOLD_ID}: litigation case 12 — Art. 17(3)(e) GDPR"
    assert result.detail is not None and "kept" in result.detail


async def test_a_partial_hold_reaches_the_services_store() -> None:
    actions = Erasing()
    held = TaskHold(hold_id=HOLD_ID, reason=None, subject_ref="ref-ada", category="invoice", placed_at=NOW)
    result = await answer(actions, held)
    assert (result.outcome, result.records_affected) == ("done", 2)
    assert actions.erased[0].holds == (held,)


async def test_without_holds_the_store_erases() -> None:
    actions = Erasing()
    assert (await answer(actions)).outcome == "done"
    assert actions.erased[0].holds == ()
