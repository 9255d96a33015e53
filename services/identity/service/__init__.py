"""Use cases of the identity service: each takes the unit of work first and only flushes."""

from __future__ import annotations

from services.identity.settings import IdentitySettings
from shared.runtime.jobs import JobContext
from shared.runtime.uow import UnitOfWork

Uow = UnitOfWork[IdentitySettings]
Job = JobContext[IdentitySettings]
