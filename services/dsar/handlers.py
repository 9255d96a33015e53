"""Kafka handlers of the DSAR service: store answers, what became of its messages, legal holds, disclosures of
people's data reported by other services, and its own store."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from services.dsar.service.contract_end_tasks import apply_result as apply_contract_end_result
from services.dsar.service.disclosures import record_disclosure
from services.dsar.service.holds import record_placed, record_released
from services.dsar.service.notifications import record_outcome
from services.dsar.service.results import apply_results
from services.dsar.service.store import DsarOwnData
from services.dsar.service.tasks import apply_result
from shared.bus.consumer import EventContext, Subscription
from shared.bus.notifications import notification_outcomes
from shared.bus.store import dsar_task_subscription
from shared.events.catalogue.contract_ends import ContractEndTaskCompleted, ContractEndTaskFailed
from shared.events.catalogue.dsar import DsarTaskCompleted, DsarTaskFailed
from shared.events.catalogue.retention import LegalHoldPlaced, LegalHoldReleased
from shared.events.catalogue.subprocessor import PersonalDataDisclosed


async def on_task_result(session: AsyncSession, event: DsarTaskCompleted | DsarTaskFailed, ctx: EventContext) -> None:
    """Close the task with the store's answer; a result for an unknown task raises (dead-lettered)."""
    await apply_result(ctx.unit_of_work(session, actor=f"system:{event.system}"), event)


async def on_contract_end_result(
    session: AsyncSession, event: ContractEndTaskCompleted | ContractEndTaskFailed, ctx: EventContext
) -> None:
    """Close a contract end's task with the store's answer (once), and move the contract end on."""
    await apply_contract_end_result(ctx.unit_of_work(session, actor=f"system:{event.system}"), event)


async def on_task_results(
    session: AsyncSession, items: Sequence[tuple[DsarTaskCompleted | DsarTaskFailed, EventContext]]
) -> None:
    """Close many tasks at once (a poll's results, at most one per subject), tenant by tenant, as one by one."""
    by_tenant: dict[str, list[tuple[DsarTaskCompleted | DsarTaskFailed, EventContext]]] = {}
    for event, ctx in items:
        by_tenant.setdefault(ctx.tenant_id, []).append((event, ctx))
    for listed in by_tenant.values():
        await apply_results(listed[0][1].unit_of_work(session), [event for event, _ in listed])


async def on_hold_placed(session: AsyncSession, event: LegalHoldPlaced, ctx: EventContext) -> None:
    """Keep the hold: the erase tasks fanned out from now on carry it to the stores it applies to."""
    await record_placed(ctx.unit_of_work(session), event)


async def on_hold_released(session: AsyncSession, event: LegalHoldReleased, ctx: EventContext) -> None:
    """Mark the hold released: later erase tasks no longer carry it."""
    await record_released(ctx.unit_of_work(session), event)


async def on_personal_data_disclosed(session: AsyncSession, event: PersonalDataDisclosed, ctx: EventContext) -> None:
    """Keep the disclosure: an access request of that person names the recipient (Art. 15(1)(c))."""
    await record_disclosure(ctx.unit_of_work(session), event, source=event.producer)


SUBSCRIPTIONS = [
    Subscription(
        name="task-results",
        handlers={DsarTaskCompleted: on_task_result, DsarTaskFailed: on_task_result},
        bulk_handlers={DsarTaskCompleted: on_task_results, DsarTaskFailed: on_task_results},
        batched=True,  # database only; a burst of results closes in a few transactions
    ),
    notification_outcomes("dsar", record_outcome, batched=True),  # database only
    Subscription(
        name="contract-end-results",
        handlers={ContractEndTaskCompleted: on_contract_end_result, ContractEndTaskFailed: on_contract_end_result},
    ),
    Subscription(
        name="legal-holds",
        handlers={LegalHoldPlaced: on_hold_placed, LegalHoldReleased: on_hold_released},
        batched=True,  # database only
    ),
    Subscription(
        name="disclosures",
        handlers={PersonalDataDisclosed: on_personal_data_disclosed},
        batched=True,  # database only
    ),
    dsar_task_subscription("privops-dsar", DsarOwnData()),
]
