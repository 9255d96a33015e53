"""End-of-contract events: a tenant's whole data returned and destroyed in every registered system.

A processor's contract promises that at its end all personal data is returned (at the customer's
choice) and destroyed, and the destruction justified in writing: GDPR Art. 28(3)(g)
(https://eur-lex.europa.eu/eli/reg/2016/679/oj). The unit is the privops tenant: everything any
system holds for it. The DSAR service fans one task per system out on the tasks topic; each store
answers on the task-results topic with its counts and what the law obliges it to keep.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events import topics
from shared.events.catalogue import Event
from shared.events.catalogue.dsar import TaskHold

ContractEndAction = Literal["export_all", "purge_tenant"]
# ``unsupported``: the store cannot do this (it does not implement the action): a person closes the task by hand.
ContractEndOutcome = Literal["done", "no_data", "exempt", "unsupported"]
ContractEndMode = Literal["return_then_delete", "delete"]
KEYED_BY_TENANT = "the contract end's id (one order for all of a tenant's tasks)"


class Exemption(BaseModel):
    """What a store keeps after a tenant purge, how much of it, and the law that requires it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    what: str = Field(description="What is kept, e.g. 'invoices'")
    records: int = Field(default=0, ge=0, description="How many records are kept")
    ground: str = Field(
        description="The legal ground, named: e.g. 'Code de commerce art. L123-22: accounting documents kept 10 "
        "years' or a legal hold (GDPR Art. 17(3)(e))"
    )


class ContractEndTaskRequested(Event):
    """Sent when a data store must export (``export_all``) or destroy (``purge_tenant``) everything of a tenant.

    The tenant is the event's ``tenantid``. ``export_all``: upload every record held for the tenant,
    grouped by dataset, to ``export_url`` (HTTP PUT, a ``dsar:task`` token), then answer. ``purge_tenant``:
    delete everything held for the tenant except what the law requires to be kept (named in
    ``exemptions``, with the ground) and what a legal hold in ``holds`` covers. A store that does not
    implement the action answers ``unsupported``: a person then closes the task by hand.
    """

    event_type: ClassVar[str] = "io.privops.dsar.contract_end.task.requested"
    topic: ClassVar[str] = topics.DSAR_TASKS
    producer: ClassVar[str] = "dsar"
    keyed_by: ClassVar[str] = KEYED_BY_TENANT

    task_id: uuid.UUID
    contract_end_id: uuid.UUID
    action: ContractEndAction
    system: str = Field(description="Key of the data system in the registry that must act")
    export_url: str = Field(description="Where an export_all task uploads its records (authenticated PUT)")
    due_at: datetime
    attempt: int = Field(default=1, ge=1, description="1 for the first publication, more for re-publications")
    holds: list[TaskHold] = Field(
        default_factory=list,
        description="Legal holds standing on the tenant's data in this system: keep what they cover (GDPR Art. "
        "17(3)(e)) and name each in exemptions",
    )


class ContractEndTaskCompleted(Event):
    """Sent by a data store when it has exported or destroyed a tenant's data (or cannot: ``unsupported``)."""

    event_type: ClassVar[str] = "io.privops.dsar.contract_end.task.completed"
    topic: ClassVar[str] = topics.DSAR_TASK_RESULTS
    producer: ClassVar[str] = "store"
    keyed_by: ClassVar[str] = KEYED_BY_TENANT

    task_id: uuid.UUID
    contract_end_id: uuid.UUID
    system: str
    action: ContractEndAction
    outcome: ContractEndOutcome
    records_affected: int = Field(default=0, ge=0, description="Records exported, or deleted")
    exemptions: list[Exemption] = Field(default_factory=list, description="What was kept, and why (purge_tenant)")
    detail: str | None = None
    store_client: str | None = Field(
        default=None, description="The store's OAuth client (or token subject) that carried the task out"
    )
    started_at: datetime | None = None
    completed_at: datetime


class ContractEndTaskFailed(Event):
    """Sent by a data store when it could not carry out a contract-end task (it is published again)."""

    event_type: ClassVar[str] = "io.privops.dsar.contract_end.task.failed"
    topic: ClassVar[str] = topics.DSAR_TASK_RESULTS
    producer: ClassVar[str] = "store"
    keyed_by: ClassVar[str] = KEYED_BY_TENANT

    task_id: uuid.UUID
    contract_end_id: uuid.UUID
    system: str
    action: ContractEndAction
    error: str
    failed_at: datetime


class ContractEndEvent(Event):
    """Common shape of the facts about one contract end."""

    topic: ClassVar[str] = topics.DSAR_EVENTS
    producer: ClassVar[str] = "dsar"
    keyed_by: ClassVar[str] = KEYED_BY_TENANT

    contract_end_id: uuid.UUID
    mode: ContractEndMode
    effective_at: datetime


class ContractEndConfirmed(ContractEndEvent):
    """Sent when a second person confirms a contract end (four eyes): it runs from its effective date, for good."""

    event_type: ClassVar[str] = "io.privops.dsar.contract_end.confirmed"

    confirmed_at: datetime


class ContractEndStarted(ContractEndEvent):
    """Sent when a contract end's effective date is reached and its first tasks fan out."""

    event_type: ClassVar[str] = "io.privops.dsar.contract_end.started"

    stage: Literal["returning", "deleting"]
    systems: int = Field(ge=0)
    started_at: datetime


class ContractEndCompleted(ContractEndEvent):
    """Sent when every system has destroyed the tenant's data (or been closed by hand) and the certificate is issued.

    Services that keep tenant state of their own (identity: its clients and accounts) act on it: the
    tenant's tokens stop working.
    """

    event_type: ClassVar[str] = "io.privops.dsar.contract_end.completed"

    completed_at: datetime
    certificate_id: uuid.UUID
    outcome: Literal["complete", "partial"] = Field(
        description="partial when a system kept data under an exemption or was closed by hand"
    )


def tenant_holds(holds: list[TaskHold], system: str) -> list[TaskHold]:
    """The holds keeping all of ``system``'s data of the tenant (no person, category or matter narrows them).

    A purge then deletes nothing and answers ``exempt`` naming them (GDPR Art. 17(3)(e)); narrower holds
    reach the store, which keeps what they cover.
    """
    return [h for h in holds if h.whole and h.subject_ref is None and h.system in (None, system)]


class ContractEndTaskNeedsPerson(Event):
    """Sent when a contract end's task waits for a person: a manual system's, or a store's that answered unsupported.

    Nobody else will close it, and the contract end cannot complete before it is closed (with the evidence).
    """

    event_type: ClassVar[str] = "io.privops.dsar.contract_end.task.manual"
    topic: ClassVar[str] = topics.DSAR_EVENTS
    producer: ClassVar[str] = "dsar"
    keyed_by: ClassVar[str] = KEYED_BY_TENANT

    task_id: uuid.UUID
    contract_end_id: uuid.UUID
    system: str
    action: ContractEndAction
    reason: Literal["manual_system", "unsupported"]
