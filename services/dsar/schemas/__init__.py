"""Request and response shapes of the DSAR API, with examples for /docs (one module per resource)."""

from services.dsar.schemas.certificates import CertificateOut, VerifyCertificateIn, VerifyCertificateOut
from services.dsar.schemas.common import KEY_PATTERN, IdentifierIn
from services.dsar.schemas.notifications import LOCALE_PATTERN, MessageOut, NotificationClaimOut
from services.dsar.schemas.requests import (
    AgentIn,
    CancelIn,
    CodeIn,
    CorrectionIn,
    DeadlineOut,
    DetailsIn,
    ExtensionIn,
    LinkOut,
    ManualVerificationIn,
    PackageOut,
    RefusalIn,
    RefusalOut,
    RequestIn,
    RequestOut,
    VerificationOut,
)
from services.dsar.schemas.systems import DisclosureOut, RecipientIn, SystemIn, SystemOut
from services.dsar.schemas.tasks import ClaimOut, ExportIn, TaskCloseIn, TaskOut, TaskRetryIn

__all__ = [
    "KEY_PATTERN",
    "LOCALE_PATTERN",
    "AgentIn",
    "CancelIn",
    "CertificateOut",
    "ClaimOut",
    "CodeIn",
    "CorrectionIn",
    "DeadlineOut",
    "DetailsIn",
    "DisclosureOut",
    "ExportIn",
    "ExtensionIn",
    "IdentifierIn",
    "LinkOut",
    "ManualVerificationIn",
    "MessageOut",
    "NotificationClaimOut",
    "PackageOut",
    "RecipientIn",
    "RefusalIn",
    "RefusalOut",
    "RequestIn",
    "RequestOut",
    "SystemIn",
    "SystemOut",
    "TaskCloseIn",
    "TaskOut",
    "TaskRetryIn",
    "VerificationOut",
    "VerifyCertificateIn",
    "VerifyCertificateOut",
]
