"""Retention policies: list, create, version, install the default pack."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from services.retention.api.deps import AdminUow, ReadUow
from services.retention.models import PolicyVersion
from services.retention.schemas import DefaultPackOut, PolicyIn, PolicyOut
from services.retention.service import policies
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.views import from_row

router = APIRouter(prefix="/v1/policies", tags=["policies"], responses=PROBLEM_RESPONSES)


def _spec(body: PolicyIn) -> policies.PolicySpec:
    return policies.PolicySpec(**body.model_dump())


@router.get("", response_model=list[PolicyOut], summary="List the tenant's current retention policies")
async def list_policies(
    uow: ReadUow, category: Annotated[str | None, Query(max_length=32)] = None
) -> list[PolicyVersion]:
    """The policies in force for the caller's tenant (one current version per category, system and purpose)."""
    return await policies.current_policies(uow, category)


@router.post("", status_code=201, response_model=PolicyOut, summary="Create a retention policy")
async def create_policy(body: PolicyIn, uow: AdminUow) -> PolicyVersion:
    """Create version 1 of a policy; unknown categories, actions or malformed periods are refused (422)."""
    return await policies.create_policy(uow, _spec(body))


@router.post("/default-pack", status_code=201, response_model=DefaultPackOut, summary="Install the default policy pack")
async def install_default_pack(uow: AdminUow) -> DefaultPackOut:
    """Install the default pack for the caller's tenant; policies it already has for a scope are kept."""
    installed, kept = await policies.install_default_pack(uow)
    return DefaultPackOut(
        installed=[from_row(PolicyOut, row) for row in installed],
        kept=[from_row(PolicyOut, row) for row in kept],
    )


@router.get("/{policy_id}", response_model=list[PolicyOut], summary="Every version of one policy")
async def policy_history(policy_id: uuid.UUID, uow: ReadUow) -> list[PolicyVersion]:
    """The versions of a policy, oldest first (sweeps name the version they applied)."""
    return await policies.policy_versions(uow, policy_id)


@router.put("/{policy_id}", response_model=PolicyOut, summary="Change a policy (adds a version)")
async def change_policy(policy_id: uuid.UUID, body: PolicyIn, uow: AdminUow) -> PolicyVersion:
    """Add a version to a policy; the next sweeps apply it, earlier sweeps keep naming the one they applied."""
    return await policies.new_version(uow, policy_id, _spec(body))
