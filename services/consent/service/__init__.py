"""Use cases of the consent service: each takes the unit of work first and only flushes."""

from __future__ import annotations

from services.consent.settings import ConsentSettings
from shared.runtime.jobs import JobContext
from shared.runtime.uow import UnitOfWork

Uow = UnitOfWork[ConsentSettings]
Job = JobContext[ConsentSettings]
