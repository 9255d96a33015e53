"""Routes of the data-system registry (the data map) and of Art. 19 recipients."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from services.dsar.api.deps import AdminUow, ReadUow, RegistrationUow, WriteUow
from services.dsar.models import DataSystem
from services.dsar.schemas import KEY_PATTERN, DisclosureOut, RecipientIn, SystemIn, SystemOut
from services.dsar.service import disclosures, registry
from services.dsar.service.tasks import system_of
from shared.rules.errors import Forbidden
from shared.runtime.problems import PROBLEM_RESPONSES
from shared.runtime.views import from_row

router = APIRouter(prefix="/v1", tags=["systems"], responses=PROBLEM_RESPONSES)
SystemKey = Annotated[str, Path(pattern=KEY_PATTERN, description="Stable key of the system, e.g. crm")]


def system_out(system: DataSystem) -> SystemOut:
    """The API shape of a system."""
    return SystemOut.model_validate(system.model_dump())


@router.put(
    "/systems/{key}",
    response_model=SystemOut,
    summary="Register or update a data system",
    responses={201: {"model": SystemOut, "description": "Registered (the first time)"}},
)
async def register(key: SystemKey, body: SystemIn, response: Response, uow: RegistrationUow) -> SystemOut:
    """Idempotent: a store calls this at every start (201 the first time, 200 after).

    ``dsar:write`` registers any system; a store's own client (``dsar:task``, subject ``system:<key>``)
    registers only its own system, and never as manual (that is a person's decision).
    """
    assert uow.principal is not None
    if not uow.principal.has_scope("dsar:write") and (system_of(uow.actor) != key or body.manual):
        raise Forbidden(f"A store's token registers only its own system (its subject is {uow.actor!r}).")
    system, created = await registry.upsert_system(uow, key, body)
    response.status_code = 201 if created else 200
    return system_out(system)


@router.get("/systems", response_model=list[SystemOut], summary="List data systems")
async def list_systems(
    uow: ReadUow, include_inactive: Annotated[bool, Query(description="Also deactivated systems")] = False
) -> list[SystemOut]:
    """The tenant's data map."""
    return [system_out(s) for s in await registry.list_systems(uow, include_inactive)]


@router.get("/systems/{key}", response_model=SystemOut, summary="Read one data system")
async def read(key: SystemKey, uow: ReadUow) -> SystemOut:
    """One registered system."""
    return system_out(await registry.get_system(uow, key))


@router.delete("/systems/{key}", response_model=SystemOut, summary="Deactivate a data system")
async def deactivate(key: SystemKey, uow: AdminUow) -> SystemOut:
    """No new tasks go to it; its history stays."""
    return system_out(await registry.deactivate_system(uow, key))


@router.post("/systems/setup", response_model=list[SystemOut], summary="Register the privops services")
async def setup(uow: AdminUow) -> list[SystemOut]:
    """Register privops-consent, -dsar, -retention, -breach and -subprocessor as systems of the tenant."""
    return [system_out(s) for s in await registry.seed_privops_systems(uow)]


@router.post("/recipients", status_code=201, summary="Record a recipient of a subject's data (Art. 19)")
async def record_recipient(body: RecipientIn, uow: WriteUow) -> dict[str, str]:
    """Rectifications and erasures of this subject will name the recipient to the system's task."""
    ref = await registry.record_recipient(uow, body.subject.kind, body.subject.value, body.system, body.recipient)
    return {"subject_ref": ref, "system": body.system, "recipient": body.recipient}


@router.get("/disclosures", response_model=list[DisclosureOut], summary="Disclosures of a subject's data")
async def list_disclosures(
    uow: ReadUow, subject_ref: Annotated[str, Query(min_length=1, max_length=128)]
) -> list[DisclosureOut]:
    """Recipients outside the tenant that received the subject's data (an authority on its demand), Art. 15(1)(c)."""
    return [from_row(DisclosureOut, d) for d in await disclosures.disclosures_of(uow, [subject_ref])]
