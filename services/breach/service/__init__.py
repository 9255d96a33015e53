"""Use cases of the breach service: each takes the unit of work first and only flushes."""

from __future__ import annotations

from services.breach.settings import BreachSettings
from shared.runtime.jobs import JobContext
from shared.runtime.uow import UnitOfWork

Uow = UnitOfWork[BreachSettings]
Job = JobContext[BreachSettings]
