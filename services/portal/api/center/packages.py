"""The download of an access or portability package (GDPR Arts. 15(3) and 20), behind its expiring link.

The DSAR service mails the person a link to this page once their verified request is answered; the
link's token is the only credential, and the DSAR service refuses it once it has expired (410).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query
from fastapi.responses import HTMLResponse, Response

from services.portal.api.center.common import brand_of, link_token, page, problem_page, router, uuid_or_404
from services.portal.api.deps import Portal, PortalDep
from services.portal.service import center as backends
from services.portal.service.backends import BackendError
from services.portal.service.center import Brand

LinkToken = Annotated[str, Query(max_length=1024)]
WRONG_LINK = "This download link is not right. Check that you copied all of it."


async def _link(portal: Portal, tenant: str, package_id: str, token: str) -> tuple[Brand, uuid.UUID, str]:
    """The tenant's brand and the link's package id and token (a wrong link is a 404 page)."""
    return await brand_of(portal, tenant), uuid_or_404(package_id, WRONG_LINK), link_token(token, WRONG_LINK)


def _link_problem(portal: Portal, tenant: str, brand: Brand, exc: BackendError) -> Response:
    """The page for a link the DSAR service refused: expired (410), or not right (404)."""
    if exc.status == 410:
        return page(portal, tenant, "center/expired.html", 410, brand=brand, title="This link has expired")
    if exc.status in (400, 404, 422):
        exc = BackendError(404, WRONG_LINK)
    return problem_page(portal, tenant, exc, brand)


@router.get("/packages/{package_id}", response_class=HTMLResponse)
async def package_page(tenant: str, package_id: str, portal: PortalDep, token: LinkToken = "") -> Response:
    """What the package holds, until when the link works, and the button that downloads it.

    The link is checked before the page offers a download: an expired link is a page that says so
    (410), a wrong one a 404 page, as the download itself would answer.
    """
    try:
        brand, found, token = await _link(portal, tenant, package_id, token)
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    try:
        info = await backends.package_info(portal.backends, found, token)
    except BackendError as exc:
        return _link_problem(portal, tenant, brand, exc)
    return page(portal, tenant, "center/package.html", brand=brand, package_id=found, token=token, info=info)


@router.get("/packages/{package_id}/download", response_class=HTMLResponse)
async def download(tenant: str, package_id: str, portal: PortalDep, token: LinkToken = "") -> Response:
    """The ZIP; an expired link is a page that says so (410), a wrong one a 404 page."""
    try:
        brand, found, token = await _link(portal, tenant, package_id, token)
    except BackendError as exc:
        return problem_page(portal, tenant, exc)
    try:
        content = await backends.package(portal.backends, found, token)
    except BackendError as exc:
        return _link_problem(portal, tenant, brand, exc)
    return Response(
        content,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="personal-data-{found}.zip"',
            "Cache-Control": "no-store",
        },
    )
