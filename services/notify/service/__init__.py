"""Use cases of the notify service: each takes the unit of work first and only flushes."""

from __future__ import annotations

from services.notify.settings import NotifySettings
from shared.runtime.jobs import JobContext
from shared.runtime.uow import UnitOfWork

Uow = UnitOfWork[NotifySettings]
Job = JobContext[NotifySettings]
