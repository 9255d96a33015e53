"""Shapes of severity assessments (ENISA inputs) and overrides of the notification decision."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.breach.domain.severity import (
    AvailabilityLoss,
    ConfidentialityLoss,
    ContextFactor,
    DataCategory,
    EaseOfIdentification,
    ExemptionGround,
    IntegrityLoss,
    RiskLevel,
)
from services.breach.schemas.fields import Text


class AdjustmentIn(BaseModel):
    """An ENISA contextual factor moving the DPC score."""

    factor: ContextFactor
    delta: int = Field(ge=-3, le=3)
    reason: Text


class DataSetIn(BaseModel):
    """A category of breached data."""

    category: DataCategory
    adjustments: list[AdjustmentIn] = []
    description: str = Field(default="", max_length=500)


class CircumstancesIn(BaseModel):
    """What happened to the data (ENISA CB)."""

    confidentiality: ConfidentialityLoss = ConfidentialityLoss.NONE
    integrity: IntegrityLoss = IntegrityLoss.NONE
    availability: AvailabilityLoss = AvailabilityLoss.NONE
    malicious_intent: bool = False


class ExemptionIn(BaseModel):
    """A documented Art. 34(3) ground for not telling each person."""

    ground: ExemptionGround
    reason: Text


class AssessmentIn(BaseModel):
    """An ENISA severity assessment."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "data_sets": [{"category": "financial", "description": "card numbers (last 4 digits)"}],
                    "ease_of_identification": "maximum",
                    "circumstances": {"confidentiality": "unknown_recipients", "malicious_intent": True},
                    "rationale": "Exfiltration by an attacker; names and e-mail addresses identify people directly.",
                }
            ]
        },
    )

    data_sets: list[DataSetIn] = Field(min_length=1)
    ease_of_identification: EaseOfIdentification
    circumstances: CircumstancesIn = CircumstancesIn()
    rationale: Text = Field(description="The assessor's reasoning, kept with the score")
    exemption: ExemptionIn | None = None


class OverrideIn(BaseModel):
    """A person's decision overriding the ENISA outcome, with the documented reason."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"risk": "high_risk", "reason": "Data of children: the DPO treats it as high risk."}]
        },
    )

    risk: RiskLevel
    reason: str = Field(max_length=2000)
    exemption: ExemptionIn | None = None


class AssessmentOut(BaseModel):
    """A recorded assessment or override and the notification decision."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    basis: str
    inputs: dict[str, Any]
    dpc: int | None
    ei: float | None
    cb: float | None
    score: float | None
    severity_level: str | None
    risk: str
    notify_authority: bool
    notify_individuals: bool
    public_communication: bool
    rationale: str
    assessor_rationale: str | None
    override_reason: str | None
    decided_by: str
    decided_at: datetime
