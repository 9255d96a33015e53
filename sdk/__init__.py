"""privops SDK: an HTTP client for product backends and a task worker for data stores.

from sdk import Identifiers, Outcome, Store, SystemRegistration, TaskWorker, WorkerConfig

class Crm(Store):
    async def erase(self, identifiers: Identifiers) -> Outcome: ...
    async def export(self, identifiers: Identifiers) -> list[dict]: ...

await TaskWorker(Crm(), WorkerConfig.from_env("crm"), SystemRegistration("CRM", "sales")).run()
"""

from sdk.client import PrivopsClient, PrivopsError
from sdk.config import WorkerConfig
from sdk.ledger import Ledger
from sdk.store import (
    Exemption,
    Hold,
    Identifier,
    Identifiers,
    Outcome,
    Purged,
    Store,
    SubjectSweep,
    Sweep,
    SweepCounts,
    SystemRegistration,
    TenantScope,
)
from sdk.subjects import subject_ref, subject_refs
from sdk.tokens import ClientCredentials, StaticToken, TokenRefused, TokenSigner
from sdk.worker import TaskWorker

__all__ = [
    "ClientCredentials",
    "Exemption",
    "Hold",
    "Identifier",
    "Identifiers",
    "Ledger",
    "Outcome",
    "PrivopsClient",
    "PrivopsError",
    "Purged",
    "StaticToken",
    "Store",
    "SubjectSweep",
    "Sweep",
    "SweepCounts",
    "SystemRegistration",
    "TaskWorker",
    "TenantScope",
    "TokenRefused",
    "TokenSigner",
    "WorkerConfig",
    "subject_ref",
    "subject_refs",
]
