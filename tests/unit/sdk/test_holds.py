"""Legal holds in an erase task: a hold on everything is answered by the SDK, partial ones reach the store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from sdk import Hold, Identifiers, Outcome, Store, WorkerConfig
from sdk.actions import TaskRunner
from sdk.tokens import StaticToken
from shared.events.catalogue.dsar import DsarTaskCompleted, DsarTaskRequested, TaskHold

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOLD_ID = uuid.UUID("7c9e6679-7425-40de-944b-e07fc1f90ae7")


class Recording(Store):
    """A store that erases whatever it is asked to, and remembers what it was given."""

    def __init__(self) -> None:
        self.erased: list[Identifiers] = []

    async def erase(self, identifiers: Identifiers) -> Outcome:
        self.erased.append(identifiers)
        return Outcome.done(3)

    async def export(self, identifiers: Identifiers) -> list[dict[str, Any]]:
        return []


def task(*holds: TaskHold, action: str = "erase") -> DsarTaskRequested:
    return DsarTaskRequested(
        task_id=uuid.uuid4(),
        request_id=uuid.uuid4(),
        action=action,
        system="crm",
        subject_ref="ref-ada",
        subject_refs=["ref-ada", "ref-ada-user"],
        claim_url="http://dsar.test/v1/tasks/t/claim",
        due_at=NOW + timedelta(days=7),
        holds=list(holds),
    )


def hold(**scope: Any) -> TaskHold:
    return TaskHold(hold_id=scope.pop("hold_id", HOLD_ID), reason="litigation case 12", placed_at=NOW, **scope)


async def run(store: Store, event: DsarTaskRequested) -> DsarTaskCompleted:
    claimed: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        claimed.append(str(request.url))
        return httpx.Response(200, json={"identifiers": [{"kind": "email", "value": "ada@example.com"}]})

    config = WorkerConfig(system="crm", bootstrap_servers="127.0.0.1:1", token="t", tenants=("acme",), max_attempts=1)
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        result = await TaskRunner(store, config, StaticToken("t"), http).run("acme", event)
    assert claimed == [event.claim_url]
    assert isinstance(result, DsarTaskCompleted), result
    return result


async def test_a_hold_on_the_person_is_answered_exempt_without_calling_erase() -> None:
    store = Recording()
    result = await run(store, task(hold(subject_ref="ref-ada-user")))
    assert store.erased == []
    assert (result.outcome, result.records_affected) == ("exempt", 0)
    assert result.exemption == f"legal hold {HOLD_ID}: litigation case 12 — Art. 17(3)(e) GDPR"
    assert result.detail is not None and "kept" in result.detail


async def test_a_hold_on_the_whole_system_is_answered_exempt_too() -> None:
    store = Recording()
    result = await run(store, task(hold(system="crm")))
    assert (store.erased, result.outcome) == ([], "exempt")


async def test_a_hold_on_another_system_keeps_nothing_here() -> None:
    store = Recording()
    result = await run(store, task(hold(system="analytics")))
    assert (len(store.erased), result.outcome) == (1, "done")


async def test_partial_holds_reach_the_store_which_decides_what_they_keep() -> None:
    store = Recording()
    matter = hold(matter="case-12")
    invoices = hold(hold_id=uuid.uuid4(), subject_ref="ref-ada", category="invoice")
    result = await run(store, task(matter, invoices))
    assert result.outcome == "done"
    (given,) = store.erased
    assert given.holds == (
        Hold(str(HOLD_ID), "litigation case 12", False, None, "case-12"),
        Hold(str(invoices.hold_id), "litigation case 12", True, "invoice", None),
    )
    assert given.held_matters == {"case-12"}
    assert given.held_categories == {"invoice"}
    assert given.holds_on("invoice", []) == (given.holds[1],)
    assert given.holds_on("customer", ["case-12", "other"]) == (given.holds[0],)
    assert given.holds_on("customer", ["other"]) == ()


async def test_a_task_without_holds_is_erased_as_before() -> None:
    store = Recording()
    result = await run(store, task())
    assert (result.outcome, result.records_affected, len(store.erased)) == ("done", 3, 1)
    assert store.erased[0].holds == ()
