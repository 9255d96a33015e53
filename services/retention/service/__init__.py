"""Use cases of the retention service: each takes the unit of work first and only flushes."""

from __future__ import annotations

from services.retention.settings import RetentionSettings
from shared.runtime.jobs import JobContext
from shared.runtime.uow import UnitOfWork

Uow = UnitOfWork[RetentionSettings]
Job = JobContext[RetentionSettings]
