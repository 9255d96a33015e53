"""What a contract end gives the customer: the returned data (one ZIP) and the signed certificate of destruction.

The return is one ZIP: per system and dataset, JSON Lines and CSV, with ``manifest.json`` listing
every file's SHA-256, behind an expiring download link (the access packages' mechanism). The
certificate names, per system, what was returned and deleted, how many records, what was kept and
under which law, when, and the store client that did it; identity signs it with the tenant's key
(typ ``destruction-certificate+jwt``), so it verifies offline (``privops verify``). Both reach the
customer's contact through notify. Art. 28(3)(g) GDPR, https://eur-lex.europa.eu/eli/reg/2016/679/oj.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import uuid
import zipfile
from datetime import datetime, timedelta
from typing import Any

import structlog
from pydantic_core import to_jsonable_python

from services.dsar.domain.contract_ends import ContractEndState, transition
from services.dsar.models import ContractEnd, ContractEndTask, ExportPackage, Notification
from services.dsar.service import Uow
from services.dsar.service.contract_end_tasks import tasks_of
from services.dsar.service.crypto import hash_secret, seal, unseal
from services.dsar.service.packages import records_csv
from shared.events.catalogue.contract_ends import ContractEndCompleted
from shared.events.catalogue.notifications import NotificationRequested
from shared.rules import keys
from shared.runtime.signing import SigningFailed, document_signer

log = structlog.get_logger("privops.dsar.contract_end_results")
# The JWS "typ" of a certificate of destruction (RFC 7515 §4.1.9).
TYP = "destruction-certificate+jwt"
RETURN_TEMPLATE = "dsar.contract_end.return_ready"
CERTIFICATE_TEMPLATE = "dsar.contract_end.certificate"


def _jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False, default=str, sort_keys=True) + "\n" for row in rows)


def build_return_zip(end: ContractEnd, exports: dict[str, dict[str, list[dict[str, Any]]]], now: datetime) -> bytes:
    """The ZIP: ``<system>/<dataset>.jsonl`` and ``.csv`` per dataset, and ``manifest.json`` with SHA-256 sums."""
    files: dict[str, bytes] = {}
    for system, datasets in sorted(exports.items()):
        for name, rows in sorted(datasets.items()):
            files[f"{system}/{name}.jsonl"] = _jsonl(rows).encode()
            files[f"{system}/{name}.csv"] = records_csv(rows).encode()
    manifest = {
        "contract_end_id": str(end.id),
        "tenant_id": end.tenant_id,
        "contract_ref": end.contract_ref,
        "generated_at": now.isoformat(),
        "formats": {
            "jsonl": "JSON Lines, one record a line (RFC 8259)",
            "csv": "CSV (RFC 4180), nested values as JSON",
        },
        "systems": {
            system: {name: len(rows) for name, rows in sorted(datasets.items())}
            for system, datasets in sorted(exports.items())
        },
        "files": [
            {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for path, data in files.items()
        ],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        for path, data in files.items():
            archive.writestr(path, data)
    return buffer.getvalue()


async def build_return(uow: Uow, end: ContractEnd) -> None:
    """Assemble the exports into one package behind an expiring link, and send the link to the customer."""
    tasks = await tasks_of(uow, end.id, "export_all")
    exports = {t.system_key: unseal(uow.settings, t.export_enc) for t in tasks if t.export_enc is not None}
    now = uow.now()
    content = build_return_zip(end, exports, now)
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(days=uow.settings.contract_end_return_days)
    package = ExportPackage(
        tenant_id=uow.tenant_id,
        request_id=end.id,  # the contract end's id: one package each, like a request's
        token_hash=hash_secret(uow.settings, "package", token),
        content=content,
        size_bytes=len(content),
        created_at=now,
        expires_at=expires,
    )
    uow.session.add(package)
    for task in tasks:
        task.export_enc = None  # the package holds it now
        uow.session.add(task)
    end.package_id, end.package_built_at = package.id, now
    url = uow.url(f"/v1/packages/{package.id}/download?token={token}")
    await notify_customer(uow, end, RETURN_TEMPLATE, {"url": url, "expires_at": expires, "bytes": len(content)})
    uow.audit("contract_end.return_built", "contract_end", end.id, {"bytes": len(content), "systems": len(exports)})


async def notify_customer(uow: Uow, end: ContractEnd, template: str, context: dict[str, Any]) -> uuid.UUID | None:
    """Queue an email to the customer's contact (``notify_to`` of the request); None when none is kept."""
    if end.notify_enc is None:
        return None
    to = unseal(uow.settings, end.notify_enc)["to"]
    values = to_jsonable_python({"contract_end_id": end.id, "contract_ref": end.contract_ref, **context})
    now = uow.now()
    recipient = hash_secret(uow.settings, "contract-end-contact", to)[:64]
    notification = Notification(
        tenant_id=uow.tenant_id,
        request_id=end.id,
        template=template,
        channel="email",
        recipient_ref=recipient,
        locale=end.locale,
        payload_enc=seal(uow.settings, {"to": to, "context": values}),
        expires_at=now + timedelta(hours=uow.settings.notification_ttl_hours),
        created_at=now,
    )
    uow.session.add(notification)
    await uow.stage(
        NotificationRequested(
            notification_id=notification.id,
            channel="email",
            template=template,
            recipient_ref=recipient,
            claim_url=uow.url(f"/v1/notifications/{notification.id}/claim"),
            locale=end.locale,
        ),
        subject=str(end.id),
    )
    uow.audit("notification.queued", "contract_end", end.id, {"template": template})
    return notification.id


def _system(task: ContractEndTask) -> dict[str, Any]:
    return {
        "system": task.system_key,
        "name": task.system_name,
        "action": task.action,
        "outcome": task.outcome,
        "records": task.records_affected,
        "exemptions": task.exemptions,
        "holds": task.holds,
        "detail": task.detail,
        "started_at": task.started_at.isoformat() if task.started_at else None,
        "completed_at": task.completed_at.isoformat() if task.completed_at else None,
        "store_client": task.store_client,
        "confirmation": "person" if task.closed_by else "system",
        "closed_by": task.closed_by,
        "evidence": task.evidence,
    }


def certificate_document(end: ContractEnd, tasks: list[ContractEndTask], issuer: str, now: datetime) -> dict[str, Any]:
    """The certificate of destruction: the contract end and each system's return and deletion."""
    kept = any(
        t.exemptions or t.outcome in ("exempt", "unsupported") or t.closed_by
        for t in tasks
        if t.action == "purge_tenant"
    )
    return {
        "certificate_id": str(end.certificate_id),
        "type": "certificate of destruction (GDPR Art. 28(3)(g))",
        "issuer": issuer,
        "tenant_id": end.tenant_id,
        "contract_end_id": str(end.id),
        "contract_ref": end.contract_ref,
        "reason": end.reason,
        "mode": end.mode,
        "requested_by": end.requested_by,
        "requested_by_name": end.requested_by_name,
        "confirmed_by": end.confirmed_by,
        "effective_at": end.effective_at.isoformat(),
        "started_at": end.started_at.isoformat() if end.started_at else None,
        "returned": {
            "package_id": str(end.package_id) if end.package_id else None,
            "built_at": end.package_built_at.isoformat() if end.package_built_at else None,
            "systems": [_system(t) for t in tasks if t.action == "export_all"],
        },
        "deleted": [_system(t) for t in tasks if t.action == "purge_tenant"],
        "completed_at": now.isoformat(),
        "issued_at": now.isoformat(),
        "outcome": "partial" if kept else "complete",
    }


async def complete(uow: Uow, end: ContractEnd) -> None:
    """Every deletion is closed: issue the certificate, sign it, send it to the customer, announce the end."""
    now = uow.now()
    end.state = transition(ContractEndState(end.state), ContractEndState.COMPLETED).value
    end.completed_at, end.certificate_id = now, uuid.uuid4()
    tasks = await tasks_of(uow, end.id)
    end.certificate = certificate_document(end, tasks, f"privops-dsar ({uow.settings.public_url})", now)
    end.outcome = end.certificate["outcome"]
    await deliver_certificate(uow, end)
    await uow.stage(
        ContractEndCompleted(
            contract_end_id=end.id,
            mode=end.mode,
            effective_at=end.effective_at,
            completed_at=now,
            certificate_id=end.certificate_id,
            outcome=end.outcome,
        ),
        str(end.id),
    )
    uow.audit("contract_end.completed", "contract_end", end.id, {"outcome": end.outcome})


def certificate_claims(end: ContractEnd) -> dict[str, Any]:
    """What the JWS carries: the document under ``certificate``, with its id and subject."""
    return {"jti": str(end.certificate_id), "sub": f"contract-end:{end.id}", "certificate": end.certificate}


async def deliver_certificate(uow: Uow, end: ContractEnd) -> bool:
    """Sign the certificate (identity, the tenant's key) and send it to the customer; False to try again later."""
    if end.signature is None:
        try:
            end.signature = await document_signer(uow.settings).sign(end.tenant_id, TYP, certificate_claims(end))
        except SigningFailed as exc:
            log.warning("contract_end.signing_deferred", contract_end_id=str(end.id), error=str(exc)[:300])
            return False
        end.signed_at = uow.now()
    if end.notified_at is None:
        context = {
            "certificate_id": end.certificate_id,
            "outcome": end.outcome,
            "certificate_jws": end.signature,
            "jwks_url": document_signer(uow.settings).jwks_url(end.tenant_id),
            "systems": len((end.certificate or {}).get("deleted", [])),
        }
        await notify_customer(uow, end, CERTIFICATE_TEMPLATE, context)
        end.notified_at, end.notify_enc = uow.now(), None  # the contact is not kept once the certificate is sent
    uow.session.add(end)
    return True


def verify_certificate(signature: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """The claims of a certificate of destruction checked against the tenant's public keys (raises when invalid)."""
    return keys.verify(signature, jwks, typ=TYP)
