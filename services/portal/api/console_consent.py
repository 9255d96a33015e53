"""The console's consent: the purposes with their notice versions, and a bulk import with its progress.

Consent must be demonstrable (GDPR Art. 7(1)) and people told what they consent to (Arts. 13, 14,
https://eur-lex.europa.eu/eli/reg/2016/679/oj): each purpose shows the notice versions published. An
import brings consents recorded elsewhere, row by row, each rejected row with its reason; it takes
``consent:admin``.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.portal.api.console_kit import (
    Invalid,
    csv_response,
    failed,
    notice_of,
    one,
    page,
    perform,
    required,
    to_login,
)
from services.portal.api.deps import FormDep, Portal, PortalDep, Session, session_of
from services.portal.domain.imports import rejections_csv
from services.portal.service.backends import BackendError

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
REJECTIONS_SHOWN = 200  # rejected rows on an import's page; the CSV holds every one
REJECTION_BATCH = 10_000  # the consent service's largest page of rejections
FORMATS = {"csv": "text/csv", "ndjson": "application/x-ndjson"}
MAX_ROWS_BYTES = 48 * 1024  # what one form of the portal carries; larger files go through the API in chunks


async def _consent_page(
    request: Request, portal: Portal, session: Session, status: int = 200, error: str = ""
) -> Response:
    try:
        purposes = await portal.backends.as_person(session.token, "GET", "/v1/purposes", service="consent")
        versions = await asyncio.gather(
            *(
                portal.backends.as_person(session.token, "GET", f"/v1/purposes/{p['key']}/notices", service="consent")
                for p in purposes
            )
        )
        changes = [n for v in versions for n in v if n.get("material")]
        campaigns = [c for c in await asyncio.gather(*(_campaign(portal, session, n) for n in changes)) if c]
    except BackendError as exc:
        return failed(portal, session, request, exc)
    return page(
        portal,
        session,
        "console/consent.html",
        status,
        purposes=[p | {"notices": v} for p, v in zip(purposes, versions, strict=True)],
        campaigns=campaigns,
        formats=FORMATS,
        error=error or None,
        notice=None if error else notice_of(request),
    )


async def _campaign(portal: Portal, session: Session, notice: dict[str, Any]) -> dict[str, Any] | None:
    """Who was told of a material notice change (None when nobody was: no grant was in force)."""
    path = f"/v1/purposes/{quote(notice['purpose'], safe='')}/notices/{notice['version']}/campaign"
    try:
        campaign: dict[str, Any] = await portal.backends.as_person(session.token, "GET", path, service="consent")
    except BackendError as exc:
        if exc.status == 404:
            return None
        raise
    return campaign | {"notice": notice}


@router.get("/consent", response_class=HTMLResponse)
async def consent(request: Request, portal: PortalDep) -> Response:
    """The purposes, each with its notice versions, and the import form."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    return await _consent_page(request, portal, session)


@router.post("/consent/imports", response_class=HTMLResponse)
async def open_import(request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Open an import and send its rows (one chunk); then its page shows the progress."""

    async def send(session: Session) -> str:
        kind = one(form, "format", 8)
        if kind not in FORMATS:
            raise Invalid("Choose the format of the rows.")
        rows = required(form, "rows", "the rows to import", MAX_ROWS_BYTES) + "\n"
        body = {"format": kind, "source_name": one(form, "source_name", 255) or None}
        created = await portal.backends.as_person(session.token, "POST", "/v1/imports", service="consent", json=body)
        await portal.backends.as_person(
            session.token,
            "POST",
            f"/v1/imports/{created['id']}/rows",
            service="consent",
            params={"offset": 0},
            content=rows.encode(),
            headers={"Content-Type": FORMATS[kind]},
        )
        return f"/console/consent/imports/{created['id']}"

    async def show(session: Session, status: int, error: str) -> Response:
        return await _consent_page(request, portal, session, status, error)

    return await perform(request, portal, form, "consent:admin", send, "/console/consent", "import", show)


@router.get("/consent/imports/{import_id}", response_class=HTMLResponse)
async def import_page(import_id: uuid.UUID, request: Request, portal: PortalDep) -> Response:
    """Where an import stands: rows done, accepted, rejected (each with its reason); htmx refreshes it."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    path = f"/v1/imports/{import_id}"
    try:
        job, rejections = await asyncio.gather(
            portal.backends.as_person(session.token, "GET", path, service="consent"),
            portal.backends.as_person(
                session.token, "GET", f"{path}/rejections", service="consent", params={"limit": REJECTIONS_SHOWN}
            ),
        )
    except BackendError as exc:
        return failed(portal, session, request, exc)
    context: dict[str, Any] = {"job": job, "rejections": rejections, "notice": notice_of(request), "error": None}
    return page(portal, session, "console/consent_import.html", **context)


@router.get("/consent/imports/{import_id}/rejections.csv")
async def import_rejections(import_id: uuid.UUID, request: Request, portal: PortalDep) -> Response:
    """Every rejected row of an import (line, field, reason) as CSV, however many: the page shows the first."""
    session = session_of(request, portal)
    if session is None:
        return to_login(request)
    path = f"/v1/imports/{import_id}/rejections"
    rows: list[dict[str, Any]] = []
    try:
        while True:  # by line number, a batch at a time (the service's largest)
            after = rows[-1]["line"] if rows else 0
            params = {"after": after, "limit": REJECTION_BATCH}
            batch = await portal.backends.as_person(session.token, "GET", path, service="consent", params=params)
            rows += batch
            if len(batch) < REJECTION_BATCH:
                break
    except BackendError as exc:
        return failed(portal, session, request, exc)
    return csv_response(rejections_csv(rows), f"import-{import_id}-rejected-rows.csv")


@router.post("/consent/imports/{import_id}/complete", response_class=HTMLResponse)
async def complete_import(import_id: uuid.UUID, request: Request, form: FormDep, portal: PortalDep) -> Response:
    """Close the import: no more rows are accepted."""
    back = f"/console/consent/imports/{import_id}"

    async def send(session: Session) -> None:
        await portal.backends.as_person(session.token, "POST", f"/v1/imports/{import_id}/complete", service="consent")

    async def show(session: Session, status: int, error: str) -> Response:
        return await _consent_page(request, portal, session, status, error)

    return await perform(request, portal, form, "consent:admin", send, back, "import", show)
