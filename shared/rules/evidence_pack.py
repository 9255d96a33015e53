"""The evidence pack: a ZIP of every service's evidence for one tenant and period, with a signed manifest (pure).

Layout (docs/evidence-pack.md): ``manifest.json`` lists every other file with its SHA-256 and size,
the tenant, the period, when it was made and which services answered (and which did not, and why);
``manifest.jws`` is a compact JWS (EdDSA, ``typ: evidence-pack+jwt``) signed with the tenant's
document key whose ``manifest_sha256`` claim is the SHA-256 of the exact bytes of ``manifest.json``;
``<service>/<section>.json`` holds each section (``<service>/<section>.<table>.csv`` its tables),
``<service>/audit_chain.json`` the verification of that service's audit chain.

Anyone verifies a pack with the tenant's public keys alone: the JWS against the JWKS, the manifest
against the claim, each file against the manifest (``verify_pack``, or standard tools).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.rules import keys

FORMAT = "privops-evidence-pack/1"
TYP = "evidence-pack+jwt"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.jws"
README = "README.txt"
AUDIT_CHAIN = "audit_chain"
# Fixed timestamps inside the ZIP: the same files make the same archive entries.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

README_TEXT = """privops evidence pack

manifest.json  what the pack holds: tenant, period, each file's SHA-256 and size, the services
               that answered and those that did not
manifest.jws   manifest.json signed with the tenant's document key (compact JWS, EdDSA): its claim
               manifest_sha256 is the SHA-256 of manifest.json

To verify: check manifest.jws with the tenant's public keys
(<issuer base>/.well-known/privops/tenants/<tenant>/jwks.json, the base of the JWS's "iss"), compare
its manifest_sha256 claim with `sha256sum manifest.json`, then check every file:
  jq -r '.files[] | "\\(.sha256)  \\(.path)"' manifest.json | sha256sum -c
or run `privops verify <pack.zip>` (add --jwks FILE to verify offline).
"""


def canonical_json(value: Any) -> bytes:
    """``value`` as UTF-8 JSON with sorted keys and two-space indentation, ending in a newline."""
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n").encode()


def sha256_hex(content: bytes) -> str:
    """The SHA-256 of ``content`` in lowercase hex (as ``sha256sum`` prints it)."""
    return hashlib.sha256(content).hexdigest()


def table_csv(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """A list of records as CSV (header from every key met, in order; nested values as JSON)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in columns])
    return out.getvalue().encode()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return str(value)


def section_files(service: str, name: str, data: Mapping[str, Any]) -> dict[str, bytes]:
    """The files of one section: ``<service>/<name>.json``, and a CSV for each list of records in it."""
    files = {f"{service}/{name}.json": canonical_json(data)}
    for key, value in data.items():
        if isinstance(value, list) and value and all(isinstance(row, Mapping) for row in value):
            files[f"{service}/{name}.{key}.csv"] = table_csv(value)
    return files


def service_files(service: str, answer: Mapping[str, Any]) -> dict[str, bytes]:
    """Every file of a service's answer to ``GET /v1/evidence``: its sections and its audit chain."""
    files: dict[str, bytes] = {}
    for name, data in sorted(answer.get("sections", {}).items()):
        files |= section_files(service, name, data)
    files[f"{service}/{AUDIT_CHAIN}.json"] = canonical_json(answer.get("audit_chain"))
    return files


@dataclass(frozen=True)
class ServiceOutcome:
    """Whether a service answered, and why not when it did not (unreachable, refused, failed)."""

    status: str  # answered, unavailable, failed
    reason: str | None = None
    sections: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The manifest's entry of the service."""
        return {"status": self.status, "reason": self.reason, "sections": list(self.sections)}


def manifest(
    *,
    pack_id: str,
    tenant: str,
    since: str,
    until: str,
    generated_at: datetime,
    services: Mapping[str, ServiceOutcome],
    files: Mapping[str, bytes],
) -> dict[str, Any]:
    """The manifest of a pack holding ``files`` (every file but the manifest and its signature)."""
    return {
        "format": FORMAT,
        "pack_id": pack_id,
        "tenant": tenant,
        "period": {"since": since, "until": until},
        "generated_at": generated_at.isoformat(),
        "services": {name: outcome.as_json() for name, outcome in sorted(services.items())},
        "complete": all(outcome.status == "answered" for outcome in services.values()),
        "files": [
            {"path": path, "sha256": sha256_hex(content), "bytes": len(content)}
            for path, content in sorted(files.items())
        ],
        "signature": {"file": SIGNATURE, "typ": TYP, "alg": keys.ALGORITHM, "claim": "manifest_sha256"},
    }


def manifest_claims(document: Mapping[str, Any], manifest_bytes: bytes) -> dict[str, Any]:
    """What ``manifest.jws`` signs: the pack's identity and the SHA-256 of ``manifest.json`` as written."""
    return {
        "jti": document["pack_id"],
        "sub": f"evidence-pack:{document['pack_id']}",
        "tenant": document["tenant"],
        "period": document["period"],
        "generated_at": document["generated_at"],
        "complete": document["complete"],
        "manifest_sha256": sha256_hex(manifest_bytes),
    }


def archive(files: Mapping[str, bytes], manifest_bytes: bytes, jws: str) -> bytes:
    """The ZIP: the manifest and its signature first, then every file in the manifest's order."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as pack:
        for path, content in [(MANIFEST, manifest_bytes), (SIGNATURE, jws.encode()), *sorted(files.items())]:
            pack.writestr(zipfile.ZipInfo(path, date_time=ZIP_TIME), content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


@dataclass
class PackReport:
    """What verifying a pack found: the signed claims, the manifest, and every problem (none: it verifies)."""

    claims: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    files_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the signature, the manifest and every file check out."""
        return not self.problems


def is_pack(content: bytes) -> bool:
    """Whether ``content`` is a ZIP holding a manifest and its signature."""
    if not zipfile.is_zipfile(io.BytesIO(content)):
        return False
    with zipfile.ZipFile(io.BytesIO(content)) as pack:
        names = set(pack.namelist())
    return {MANIFEST, SIGNATURE} <= names


def signed_jws(content: bytes) -> str:
    """The compact JWS of a pack (``manifest.jws``), unverified: to find its issuer."""
    with zipfile.ZipFile(io.BytesIO(content)) as pack:
        return pack.read(SIGNATURE).decode().strip()


def verify_pack(content: bytes, jwks: Mapping[str, Any]) -> PackReport:
    """Check a pack with the tenant's public keys: the signature, the manifest's hash, then each file's."""
    report = PackReport()
    try:
        pack = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as exc:
        report.problems.append(f"not a ZIP archive: {exc}")
        return report
    with pack:
        names = set(pack.namelist())
        for needed in (MANIFEST, SIGNATURE):
            if needed not in names:
                report.problems.append(f"{needed} is missing")
        if report.problems:
            return report
        manifest_bytes = pack.read(MANIFEST)
        try:
            report.claims = keys.verify(pack.read(SIGNATURE).decode().strip(), jwks, typ=TYP)
        except (keys.SignatureInvalid, UnicodeDecodeError) as exc:
            report.problems.append(f"{SIGNATURE}: {exc}")
            return report
        if report.claims.get("manifest_sha256") != sha256_hex(manifest_bytes):
            report.problems.append(f"{MANIFEST} differs from the one signed (manifest_sha256)")
            return report
        report.manifest = json.loads(manifest_bytes)
        _check_files(pack, names, report)
    return report


def _check_files(pack: zipfile.ZipFile, names: set[str], report: PackReport) -> None:
    if report.manifest.get("tenant") != report.claims.get("tenant"):
        report.problems.append("the manifest's tenant differs from the signed one")
    listed = {entry["path"]: entry for entry in report.manifest.get("files", [])}
    for path, entry in sorted(listed.items()):
        if path not in names:
            report.problems.append(f"{path}: listed in the manifest, missing from the pack")
            continue
        content = pack.read(path)
        if sha256_hex(content) != entry.get("sha256") or len(content) != entry.get("bytes"):
            report.problems.append(f"{path}: its SHA-256 or size differs from the manifest (changed)")
        report.files_checked += 1
    for extra in sorted(names - set(listed) - {MANIFEST, SIGNATURE}):
        report.problems.append(f"{extra}: in the pack but not in the manifest (added)")
