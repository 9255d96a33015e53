"""Access and portability packages: one ZIP with JSON and CSV per system and the Art. 15 information."""

from __future__ import annotations

import csv
import io
import json
import secrets
import uuid
import zipfile
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from services.dsar.domain import get_regime
from services.dsar.models import DataSystem, DsarRequest, DsarTask, ExportPackage
from services.dsar.service import Uow
from services.dsar.service.crypto import hash_secret, same_hash, unseal
from services.dsar.service.requests import of_request
from services.dsar.settings import DsarSettings
from shared.rules.errors import Gone, NotFound

RIGHTS = [
    "access (Art. 15)",
    "rectification (Art. 16)",
    "erasure (Art. 17)",
    "restriction of processing (Art. 18)",
    "data portability (Art. 20)",
    "objection (Art. 21)",
    "lodging a complaint with a supervisory authority (Art. 77)",
]


def records_csv(records: list[dict[str, Any]]) -> str:
    """Records as CSV: one column per key seen, nested values as JSON."""
    columns = sorted({key for record in records for key in record})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: _cell(v) for k, v in record.items()})
    return out.getvalue()


def _cell(value: Any) -> Any:
    return value if value is None or isinstance(value, str | int | float) else json.dumps(value, default=str)


def art15_information(request: DsarRequest, systems: list[DataSystem]) -> dict[str, Any]:
    """What Art. 15(1)-(2) requires besides the data, taken from the registry."""
    regime = get_regime(request.regime_id)

    def union(attr: str) -> list[str]:
        return sorted({item for s in systems for item in getattr(s, attr)})

    return {
        "purposes": union("purposes"),
        "categories_of_personal_data": union("data_categories"),
        "recipients": union("recipients"),
        "retention_periods": {s.key: s.retention or "not recorded" for s in systems},
        "sources": {s.key: s.source or "collected from you" for s in systems},
        "transfer_safeguards": {s.key: s.transfer_safeguards or "no transfer recorded" for s in systems},
        "automated_decision_making": "none recorded",
        "your_rights": RIGHTS,
        "supervisory_authority": regime.authority.name,
        "systems": [{"key": s.key, "name": s.name, "owner": s.owner} for s in systems],
    }


def build_zip(
    request: DsarRequest, tasks: list[DsarTask], systems: list[DataSystem], settings: DsarSettings, now: datetime
) -> bytes:
    """The package: README, request.json, art15.json and systems/<key>/records.{json,csv}."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "README.txt",
            f"Your personal data, answering request {request.id} ({request.request_type}).\n"
            "systems/<system>/records.json and records.csv hold what each system keeps about you;\n"
            "art15.json lists the purposes, categories, recipients, retention periods, sources and your rights.\n",
        )
        summary = {
            "request_id": str(request.id),
            "request_type": request.request_type,
            "jurisdiction": request.regime_id,
            "received_at": request.received_at.isoformat(),
            "generated_at": now.isoformat(),
            "systems": {t.system_key: t.outcome for t in tasks},
        }
        archive.writestr("request.json", json.dumps(summary, indent=2))
        archive.writestr("art15.json", json.dumps(art15_information(request, systems), indent=2, ensure_ascii=False))
        for task in tasks:
            records: list[dict[str, Any]] = unseal(settings, task.export_enc) if task.export_enc else []
            archive.writestr(f"systems/{task.system_key}/records.json", json.dumps(records, indent=2, default=str))
            archive.writestr(f"systems/{task.system_key}/records.csv", records_csv(records))
    return buffer.getvalue()


async def build_package(uow: Uow, request: DsarRequest, tasks: list[DsarTask]) -> tuple[ExportPackage, str]:
    """Build and keep the ZIP; return it and the URL mailed to the person (the token is only in the URL)."""
    keys = [t.system_key for t in tasks]
    systems = list(
        (
            await uow.session.exec(
                select(DataSystem).where(col(DataSystem.tenant_id) == uow.tenant_id, col(DataSystem.key).in_(keys))
            )
        ).all()
    )
    now = uow.now()
    content = build_zip(request, tasks, systems, uow.settings, now)
    token = secrets.token_urlsafe(32)
    package = ExportPackage(
        tenant_id=uow.tenant_id,
        request_id=request.id,
        token_hash=hash_secret(uow.settings, "package", token),
        content=content,
        size_bytes=len(content),
        created_at=now,
        expires_at=now + timedelta(hours=uow.settings.package_ttl_hours),
    )
    uow.session.add(package)
    uow.audit("package.built", "dsar_request", request.id, {"bytes": len(content), "systems": keys})
    return package, _link(uow, package, token, for_person=True)


def _link(uow: Uow, package: ExportPackage, token: str, *, for_person: bool = False) -> str:
    """The download URL: the portal's page for the package in a mail to the person, when a portal is set."""
    if for_person and uow.settings.portal_url:
        return f"{uow.settings.portal_url.rstrip('/')}/p/{uow.tenant_id}/packages/{package.id}?token={token}"
    return uow.url(f"/v1/packages/{package.id}/download?token={token}")


async def new_link(uow: Uow, request_id: uuid.UUID) -> tuple[str, datetime]:
    """A fresh download link for a request's package (the previous link stops working)."""
    package = await of_request(uow, ExportPackage, request_id, missing=f"Request {request_id} has no package (yet).")
    if package.content is None:
        raise Gone("The package was deleted after its link expired.")
    token = secrets.token_urlsafe(32)
    package.token_hash = hash_secret(uow.settings, "package", token)
    package.expires_at = uow.now() + timedelta(hours=uow.settings.package_ttl_hours)
    uow.session.add(package)
    uow.audit("package.link_issued", "dsar_request", request_id, {"expires_at": package.expires_at})
    return _link(uow, package, token), package.expires_at


async def download(link: Uow, package_id: uuid.UUID, token: str) -> bytes:
    """The ZIP behind a download link (the token is the credential); 404 for a wrong token, 410 once expired."""
    package = await link.session.get(ExportPackage, package_id)
    if package is None or not same_hash(package.token_hash, hash_secret(link.settings, "package", token)):
        raise NotFound("No such package, or the link is wrong.")
    if package.content is None or package.expires_at < link.now():
        raise Gone("This download link has expired; ask for a new one.")
    if package.downloaded_at is None:
        package.downloaded_at = link.now()
        link.session.add(package)
    link.for_tenant(package.tenant_id).audit("package.downloaded", "dsar_request", package.request_id)
    return package.content
