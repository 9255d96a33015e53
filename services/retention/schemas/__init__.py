"""Request and response shapes of the retention API (with examples for /docs), one module per resource."""

from services.retention.schemas.holds import HoldIn, HoldOut, ReleaseIn
from services.retention.schemas.policies import DefaultPackOut, PolicyIn, PolicyOut
from services.retention.schemas.schedules import AccountClosedIn, ScheduleOut, SystemIn, SystemOut
from services.retention.schemas.sweeps import (
    PreviewItem,
    PreviewStep,
    ReportOut,
    SweepOut,
    SweepRunIn,
    SystemSweepStatus,
)

__all__ = [
    "AccountClosedIn",
    "DefaultPackOut",
    "HoldIn",
    "HoldOut",
    "PolicyIn",
    "PolicyOut",
    "PreviewItem",
    "PreviewStep",
    "ReleaseIn",
    "ReportOut",
    "ScheduleOut",
    "SweepOut",
    "SweepRunIn",
    "SystemIn",
    "SystemOut",
    "SystemSweepStatus",
]
