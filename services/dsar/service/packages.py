"""Access and portability packages: one ZIP with JSON and CSV per system, the whole as one JSON document
following a published JSON Schema, the Art. 15 information, and a manifest of checksums."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import secrets
import uuid
import zipfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from services.dsar.domain import get_regime
from services.dsar.models import DataSystem, DsarRequest, DsarTask, ExportPackage, SubjectDisclosure
from services.dsar.schemas.portability import (
    CHECKSUMS,
    MANIFEST,
    PACKAGE_DOCUMENT,
    SCHEMA_PATH,
    PackageController,
    PackageRecipient,
    PackageSystem,
    PortabilityPackage,
)
from services.dsar.service import Uow
from services.dsar.service.crypto import hash_secret, same_hash, unseal
from services.dsar.service.disclosures import disclosures_of
from services.dsar.service.requests import of_request
from services.dsar.settings import DsarSettings
from shared.rules.errors import Gone, NotFound
from shared.runtime.db import new_id

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


def art15_information(
    request: DsarRequest, systems: list[DataSystem], disclosures: Sequence[SubjectDisclosure] = ()
) -> dict[str, Any]:
    """What Art. 15(1)-(2) requires besides the data, taken from the registry and the recorded disclosures of this
    person (to an authority, say: the recipient, its country, what and when, Art. 15(1)(c))."""
    regime = get_regime(request.regime_id)

    def union(attr: str) -> list[str]:
        return sorted({item for s in systems for item in getattr(s, attr)})

    return {
        "purposes": union("purposes"),
        "categories_of_personal_data": union("data_categories"),
        "recipients": sorted(set(union("recipients")) | {d.recipient for d in disclosures}),
        "disclosures": [
            {
                "recipient": d.recipient,
                "recipient_country": d.recipient_country,
                "categories": d.categories,
                "disclosed_at": d.disclosed_at.isoformat(),
            }
            for d in disclosures
        ],
        "retention_periods": {s.key: s.retention or "not recorded" for s in systems},
        "sources": {s.key: s.source or "collected from you" for s in systems},
        "transfer_safeguards": {s.key: s.transfer_safeguards or "no transfer recorded" for s in systems},
        "automated_decision_making": "none recorded",
        "your_rights": RIGHTS,
        "supervisory_authority": regime.authority.name,
        "systems": [{"key": s.key, "name": s.name, "owner": s.owner} for s in systems],
    }


def build_zip(
    request: DsarRequest,
    tasks: list[DsarTask],
    systems: list[DataSystem],
    settings: DsarSettings,
    now: datetime,
    disclosures: Sequence[SubjectDisclosure] = (),
    *,
    package_id: uuid.UUID,
    tenant: str,
    recipient: PackageRecipient | None = None,
) -> bytes:
    """The package: README, request.json, art15.json, systems/<key>/records.{json,csv}, personal-data.json
    (the whole, following the published JSON Schema), then manifest.json and checksums.sha256 over the rest.
    """
    by_key = {s.key: s for s in systems}
    files: dict[str, bytes] = {}
    files["README.txt"] = (
        f"Your personal data, answering request {request.id} ({request.request_type}).\n"
        "systems/<system>/records.json and records.csv hold what each system keeps about you;\n"
        "personal-data.json holds all of it in one document (its JSON Schema: "
        f"{settings.public_url.rstrip('/')}{SCHEMA_PATH});\n"
        "art15.json lists the purposes, categories, recipients, retention periods, sources and your rights;\n"
        "manifest.json and checksums.sha256 give each file's SHA-256 (sha256sum -c checksums.sha256).\n"
    ).encode()
    summary = {
        "request_id": str(request.id),
        "request_type": request.request_type,
        "jurisdiction": request.regime_id,
        "received_at": request.received_at.isoformat(),
        "generated_at": now.isoformat(),
        "systems": {t.system_key: t.outcome for t in tasks},
    }
    files["request.json"] = json.dumps(summary, indent=2).encode()
    files["art15.json"] = json.dumps(
        art15_information(request, systems, disclosures), indent=2, ensure_ascii=False
    ).encode()
    parts: list[PackageSystem] = []
    for task in tasks:
        records: list[dict[str, Any]] = unseal(settings, task.export_enc) if task.export_enc else []
        files[f"systems/{task.system_key}/records.json"] = json.dumps(records, indent=2, default=str).encode()
        files[f"systems/{task.system_key}/records.csv"] = records_csv(records).encode()
        system = by_key.get(task.system_key)
        parts.append(
            PackageSystem(
                key=task.system_key,
                name=system.name if system else task.system_key,
                owner=system.owner if system else None,
                data_categories=system.data_categories if system else [],
                purposes=system.purposes if system else [],
                outcome=task.outcome,
                record_count=len(records),
                records=json.loads(json.dumps(records, default=str)),
                csv=f"systems/{task.system_key}/records.csv",
            )
        )
    document = PortabilityPackage(
        package_id=package_id,
        request_id=request.id,
        request_type="portability" if request.request_type == "portability" else "access",
        jurisdiction=request.regime_id,
        received_at=request.received_at,
        generated_at=now,
        controller=PackageController(tenant=tenant, issuer=settings.public_url),
        recipient=recipient,
        systems=parts,
    )
    files[PACKAGE_DOCUMENT] = document.model_dump_json(indent=2).encode()
    manifest = package_manifest(files, package_id, request.id, now, settings.public_url.rstrip("/") + SCHEMA_PATH)
    files[MANIFEST] = json.dumps(manifest, indent=2).encode()
    files[CHECKSUMS] = "".join(f"{sha256_hex(body)}  {path}\n" for path, body in files.items()).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, body in files.items():
            archive.writestr(path, body)
    return buffer.getvalue()


def sha256_hex(body: bytes) -> str:
    """The SHA-256 of ``body`` in hex."""
    return hashlib.sha256(body).hexdigest()


def package_manifest(
    files: dict[str, bytes], package_id: uuid.UUID, request_id: uuid.UUID, now: datetime, schema_url: str
) -> dict[str, Any]:
    """What the package holds: each file with its size, media type and SHA-256 (the manifest itself excepted)."""
    return {
        "format": "privops-package-manifest",
        "version": 1,
        "package_id": str(package_id),
        "request_id": str(request_id),
        "generated_at": now.isoformat(),
        "document": PACKAGE_DOCUMENT,
        "schema": schema_url,
        "files": [
            {"path": path, "bytes": len(body), "media_type": _media_type(path), "sha256": sha256_hex(body)}
            for path, body in files.items()
        ],
    }


def _media_type(path: str) -> str:
    return {".json": "application/json", ".csv": "text/csv"}.get(path[path.rfind(".") :], "text/plain")


async def build_package(
    uow: Uow, request: DsarRequest, tasks: list[DsarTask], recipient: PackageRecipient | None = None
) -> tuple[ExportPackage, str]:
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
    disclosures = await disclosures_of(uow, request.subject_refs)
    package_id = new_id()
    content = build_zip(
        request,
        tasks,
        systems,
        uow.settings,
        now,
        disclosures,
        package_id=package_id,
        tenant=uow.tenant_id,
        recipient=recipient,
    )
    token = secrets.token_urlsafe(32)
    package = ExportPackage(
        id=package_id,
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
    return reissue_link(uow, package)


def reissue_link(uow: Uow, package: ExportPackage) -> tuple[str, datetime]:
    """A fresh download link for ``package``, the previous one stops working; 410 once its content is gone."""
    if package.content is None:
        raise Gone("The package was deleted after its link expired.")
    token = secrets.token_urlsafe(32)
    package.token_hash = hash_secret(uow.settings, "package", token)
    package.expires_at = uow.now() + timedelta(hours=uow.settings.package_ttl_hours)
    uow.session.add(package)
    uow.audit("package.link_issued", "dsar_request", package.request_id, {"expires_at": package.expires_at})
    return _link(uow, package, token), package.expires_at


async def linked(link: Uow, package_id: uuid.UUID, token: str) -> ExportPackage:
    """The package a download link names (the token is the credential); 404 for a wrong token, 410 once expired."""
    package = await link.session.get(ExportPackage, package_id)
    if package is None or not same_hash(package.token_hash, hash_secret(link.settings, "package", token)):
        raise NotFound("No such package, or the link is wrong.")
    if package.content is None or package.expires_at < link.now():
        raise Gone("This download link has expired; ask for a new one.")
    return package


async def describe(link: Uow, package_id: uuid.UUID, token: str) -> tuple[ExportPackage, str]:
    """What a download link leads to and the type of the request it answers, before the person downloads it."""
    package = await linked(link, package_id, token)
    request = await link.session.get(DsarRequest, package.request_id)
    return package, request.request_type if request is not None else "access"


async def download(link: Uow, package_id: uuid.UUID, token: str) -> bytes:
    """The ZIP behind a download link (the token is the credential); 404 for a wrong token, 410 once expired."""
    package = await linked(link, package_id, token)
    if package.downloaded_at is None:
        package.downloaded_at = link.now()
        link.session.add(package)
    link.for_tenant(package.tenant_id).audit("package.downloaded", "dsar_request", package.request_id)
    return package.content or b""  # never empty here: ``linked`` refuses a purged package (410)
