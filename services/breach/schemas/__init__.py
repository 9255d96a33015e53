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
    DeliveryOut,
    DeliveryUpdateIn,
    NoticeIn,
    NoticeOut,
    SectionOut,
    SendIn,
)

__all__ = [
    "AdjustmentIn",
    "AssessmentIn",
    "AssessmentOut",
    "CircumstancesIn",
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
    "SubjectsIn",
    "SubjectsOut",
    "TimelineOut",
]
