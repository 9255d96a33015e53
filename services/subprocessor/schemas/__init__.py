"""Request and response shapes of the subprocessor API (each request with examples for /docs)."""

from services.subprocessor.schemas.changes import (
    AcknowledgementOut,
    CancelIn,
    ChangeIn,
    ChangeOut,
    LogEntryOut,
    NoticeObjectionIn,
    NoticeOut,
    NotificationClaimOut,
    ObjectionIn,
    ObjectionOut,
    ResolutionIn,
)
from services.subprocessor.schemas.register import (
    ContactIn,
    ContactOut,
    CustomerIn,
    CustomerOut,
    CustomerSubprocessorsIn,
    LocationIn,
    SubprocessorIn,
    SubprocessorOut,
    SubprocessorVersionOut,
)

__all__ = [
    "AcknowledgementOut",
    "CancelIn",
    "ChangeIn",
    "ChangeOut",
    "ContactIn",
    "ContactOut",
    "CustomerIn",
    "CustomerOut",
    "CustomerSubprocessorsIn",
    "LocationIn",
    "LogEntryOut",
    "NoticeObjectionIn",
    "NoticeOut",
    "NotificationClaimOut",
    "ObjectionIn",
    "ObjectionOut",
    "ResolutionIn",
    "SubprocessorIn",
    "SubprocessorOut",
    "SubprocessorVersionOut",
]
