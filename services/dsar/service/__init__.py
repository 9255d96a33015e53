"""Use cases of the DSAR service: each takes the unit of work first and only flushes."""

from __future__ import annotations

from services.dsar.settings import DsarSettings
from shared.runtime.jobs import JobContext
from shared.runtime.uow import UnitOfWork

Uow = UnitOfWork[DsarSettings]
Job = JobContext[DsarSettings]
