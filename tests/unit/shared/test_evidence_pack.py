"""The evidence pack's format: a manifest of checksums signed with the tenant's key, and what breaks it."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime

import pytest

from shared.rules import evidence_pack as pack
from shared.rules import keys

KEY = keys.derive_private_key(b"k" * 32, "test tenant key")
KID = keys.thumbprint_kid(KEY.public_key())
JWKS = {"keys": [keys.public_jwk(KEY, KID)]}
ANSWER = {
    "service": "dsar",
    "tenant": "acme",
    "sections": {"data_map": {"systems": [{"key": "crm", "purposes": ["contract"]}, {"key": "erp", "extra": 1}]}},
    "audit_chain": {"ok": True, "checked": 3},
}


def build(files: dict[str, bytes] | None = None, key: keys.Ed25519PrivateKey = KEY, tenant: str = "acme") -> bytes:
    """A pack as the identity service builds one, signed with ``key``."""
    content = files if files is not None else pack.service_files("dsar", ANSWER)
    outcomes = {"dsar": pack.ServiceOutcome("answered", sections=("data_map",))}
    outcomes["breach"] = pack.ServiceOutcome("unavailable", "ConnectError: refused")
    document = pack.manifest(
        pack_id="p-1",
        tenant=tenant,
        since="2026-01-01",
        until="2026-12-31",
        generated_at=datetime(2027, 1, 2, tzinfo=UTC),
        services=outcomes,
        files=content,
    )
    manifest_bytes = pack.canonical_json(document)
    claims = pack.manifest_claims(document, manifest_bytes) | {"iss": "https://id.test/tenants/acme"}
    jws = keys.sign(key, keys.thumbprint_kid(key.public_key()), claims, pack.TYP)
    return pack.archive(content, manifest_bytes, jws)


def rewrite(content: bytes, changes: dict[str, bytes | None]) -> bytes:
    """The same ZIP with some files replaced, added or (None) removed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            if name not in changes:
                target.writestr(name, source.read(name))
        for name, data in changes.items():
            if data is not None:
                target.writestr(name, data)
    return out.getvalue()


def read(content: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return archive.read(name)


def test_a_pack_verifies_with_the_tenant_keys_and_says_who_did_not_answer() -> None:
    content = build()
    assert pack.is_pack(content)
    report = pack.verify_pack(content, JWKS)
    assert report.ok, report.problems
    assert report.files_checked == 3  # the section's JSON, its table as CSV, the audit chain
    assert report.claims["tenant"] == "acme" and report.claims["sub"] == "evidence-pack:p-1"
    assert report.manifest["complete"] is False
    assert report.manifest["services"]["breach"] == {
        "status": "unavailable", "reason": "ConnectError: refused", "sections": [],
    }  # fmt: skip
    assert [f["path"] for f in report.manifest["files"]] == [
        "dsar/audit_chain.json", "dsar/data_map.json", "dsar/data_map.systems.csv",
    ]  # fmt: skip
    assert read(content, "dsar/data_map.systems.csv").decode().splitlines() == [
        "key,purposes,extra", 'crm,"[""contract""]",', "erp,,1",
    ]  # fmt: skip
    assert json.loads(read(content, "dsar/data_map.json")) == ANSWER["sections"]["data_map"]  # type: ignore[index]


def test_the_same_files_make_the_same_archive_entries() -> None:
    assert read(build(), "dsar/data_map.json") == read(build(), "dsar/data_map.json")
    with zipfile.ZipFile(io.BytesIO(build())) as archive:
        assert archive.namelist()[:2] == ["manifest.json", "manifest.jws"]
        assert {info.date_time for info in archive.infolist()} == {pack.ZIP_TIME}


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"dsar/data_map.json": b'{"systems": []}\n'}, "dsar/data_map.json: its SHA-256 or size differs"),
        ({"dsar/audit_chain.json": None}, "dsar/audit_chain.json: listed in the manifest, missing"),
        ({"dsar/extra.json": b"{}"}, "dsar/extra.json: in the pack but not in the manifest"),
    ],
)
def test_a_changed_missing_or_added_file_fails(changes: dict[str, bytes | None], problem: str) -> None:
    report = pack.verify_pack(rewrite(build(), changes), JWKS)
    assert not report.ok
    assert any(p.startswith(problem) for p in report.problems), report.problems


def test_a_changed_manifest_fails_even_with_its_checksums_made_to_match() -> None:
    content = build()
    forged = rewrite(content, {"dsar/data_map.json": b'{"systems": []}\n'})
    manifest = json.loads(read(content, "manifest.json"))
    for entry in manifest["files"]:
        if entry["path"] == "dsar/data_map.json":
            entry |= {"sha256": pack.sha256_hex(b'{"systems": []}\n'), "bytes": 16}
    forged = rewrite(forged, {"manifest.json": pack.canonical_json(manifest)})
    report = pack.verify_pack(forged, JWKS)
    assert report.problems == ["manifest.json differs from the one signed (manifest_sha256)"]


def test_a_pack_signed_with_another_key_or_missing_its_signature_fails() -> None:
    other = keys.derive_private_key(b"o" * 32, "another tenant key")
    report = pack.verify_pack(build(key=other), JWKS)
    assert len(report.problems) == 1 and "no published key has kid" in report.problems[0]
    assert pack.verify_pack(rewrite(build(), {"manifest.jws": None}), JWKS).problems == ["manifest.jws is missing"]
    header, payload, signature = read(build(), "manifest.jws").decode().split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    report = pack.verify_pack(rewrite(build(), {"manifest.jws": f"{header}.{payload}.{flipped}".encode()}), JWKS)
    assert len(report.problems) == 1 and "does not verify" in report.problems[0]
    assert pack.verify_pack(b"not a zip", JWKS).problems[0].startswith("not a ZIP archive")
    assert not pack.is_pack(b"not a zip")
