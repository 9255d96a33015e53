"""Request and response shapes of the breach API, with examples for /docs."""

from services.breach.schemas.assessments import (
    AdjustmentIn,
    AssessmentIn,
    AssessmentOut,
    CircumstancesIn,
    DataSetIn,
    ExemptionIn,
    OverrideIn,
)
from services.breach.schemas.incidents import (
    CloseIn,
    DeadlineOut,
    IncidentFacts,
    IncidentIn,
    IncidentOut,
    IncidentPatch,
    SubjectsIn,
    SubjectsOut,
    TimelineOut,
)
from services.breach.schemas.notices import (
    ClaimOut,
    DeliveryOut,
    DeliveryUpdateIn,
    NoticeIn,
    NoticeOut,
    SectionOut,
    SendIn,
)
from services.breach.schemas.settings import SettingsIn, SettingsOut

__all__ = [
    "AdjustmentIn",
    "AssessmentIn",
    "AssessmentOut",
    "CircumstancesIn",
    "ClaimOut",
    "CloseIn",
    "DataSetIn",
    "DeadlineOut",
    "DeliveryOut",
    "DeliveryUpdateIn",
    "ExemptionIn",
    "IncidentFacts",
    "IncidentIn",
    "IncidentOut",
    "IncidentPatch",
    "NoticeIn",
    "NoticeOut",
    "OverrideIn",
    "SectionOut",
    "SendIn",
    "SettingsIn",
    "SettingsOut",
    "SubjectsIn",
    "SubjectsOut",
    "TimelineOut",
]
