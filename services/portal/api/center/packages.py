"""The download of an access or portability package (GDPR Arts. 15(3) and 20), behind its expiring link.

The DSAR service mails the person a link to this page once their verified request is answered; the
link's token is the only credential, and the DSAR service refuses it once it has expired (410).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query
from fastapi.responses import HTMLResponse, Response

from services.portal.api.center.common import brand_of, page, problem_page, router
from services.portal.api.deps import PortalDep
from services.portal.service import center as backends
from services.portal.service.backends import BackendError

LinkToken = Annotated[str, Query(min_length=16, max_length=128)]


@router.get("/packages/{package_id}", response_class=HTMLResponse)
async def package_page(tenant: str, package_id: uuid.UUID, token: LinkToken, portal: PortalDep) -> Response:
    """What the package holds, and the button that downloads it."""
    try:
        brand = await brand_of(portal, tenant)
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    return page(portal, tenant, "center/package.html", brand=brand, package_id=package_id, token=token)


@router.get("/packages/{package_id}/download", response_class=HTMLResponse)
async def download(tenant: str, package_id: uuid.UUID, token: LinkToken, portal: PortalDep) -> Response:
    """The ZIP; an expired link is a page that says so (410), a wrong one a 404 page."""
    try:
        brand = await brand_of(portal, tenant)
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    try:
        content = await backends.package(portal.backends, package_id, token)
    except BackendError as exc:
        if exc.status == 410:
            return page(portal, tenant, "center/expired.html", 410, brand=brand, title="This link has expired")
        if exc.status in (400, 404, 422):
            exc = BackendError(404, "This download link is not right. Check that you copied all of it.")
        return problem_page(portal, tenant, exc, brand)
    return Response(
        content,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="personal-data-{package_id}.zip"',
            "Cache-Control": "no-store",
        },
    )
