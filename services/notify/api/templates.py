"""Routes of templates: what exists, a preview, and a tenant's own versions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from services.notify.api.deps import AdminUow, ReadUow
from services.notify.schemas import OverrideIn, OverrideOut, PreviewIn, PreviewOut, TemplateOut
from services.notify.schemas.profile import LOCALE
from services.notify.service import templates as service
from shared.runtime.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/templates", tags=["templates"], responses=PROBLEM_RESPONSES)

Locale = Annotated[str, Path(pattern=LOCALE)]
File = Annotated[str, Path(pattern=r"^[a-z0-9_.]{1,150}\.(txt|html)$")]
Key = Annotated[str, Path(pattern=r"^[a-z0-9_.]{1,128}$")]


@router.get("", response_model=list[TemplateOut], summary="List templates")
async def list_templates(uow: ReadUow) -> list[TemplateOut]:
    """Every template key, the locales it exists in, and the tenant's overridden files."""
    return await service.list_templates(uow)


@router.post("/{key}/preview", response_model=PreviewOut, summary="Render a template")
async def preview(key: Key, body: PreviewIn, uow: ReadUow) -> PreviewOut:
    """The message ``key`` gives with these values, in the tenant's brand and overrides (422 if it cannot render)."""
    message = await service.render(uow, key, body.locale, body.context)
    return PreviewOut(subject=message.subject, text=message.text, html=message.html, locale=message.locale)


@router.put("/{locale}/{file}", response_model=OverrideOut, summary="Override a template file")
async def put_override(locale: Locale, file: File, body: OverrideIn, uow: AdminUow) -> OverrideOut:
    """The tenant's own ``<key>.txt`` or ``<key>.html`` in ``locale``; refused (422) unless it renders."""
    return await service.put_override(uow, locale, file, body.source)


@router.delete("/{locale}/{file}", status_code=204, summary="Remove a template override")
async def delete_override(locale: Locale, file: File, uow: AdminUow) -> Response:
    """The built-in file applies again (404 when the tenant had no override)."""
    await service.delete_override(uow, locale, file)
    return Response(status_code=204)
