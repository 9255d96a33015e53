"""Use cases of the subprocessor service: each takes the unit of work first and only flushes."""

from __future__ import annotations

from services.subprocessor.settings import SubprocessorSettings
from shared.runtime.jobs import JobContext
from shared.runtime.uow import UnitOfWork

Uow = UnitOfWork[SubprocessorSettings]
Job = JobContext[SubprocessorSettings]
