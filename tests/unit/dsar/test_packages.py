"""The package: every system as JSON and CSV, the whole as one document of the published schema, checksums."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from services.dsar.models import DataSystem, DsarRequest, DsarTask
from services.dsar.schemas.portability import PackageRecipient, PortabilityPackage, package_schema
from services.dsar.service.crypto import seal
from services.dsar.service.packages import build_zip
from services.dsar.settings import DsarSettings

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SETTINGS = {
    "database_url": "postgresql+asyncpg://x@127.0.0.1/db",
    "kafka_bootstrap_servers": "127.0.0.1:9092",
    "jwt_secret": "j" * 40,
    "environment": "test",
    "subject_hash_key": "h" * 40,
    "signing_key": "s" * 40,
    "public_url": "https://dsar.example",
}
RECORDS = [
    {"table": "contacts", "name": "Ada Lovelace", "tags": ["vip"], "address": {"city": "London"}},
    {"table": "orders", "order": "A-17", "total": 12.5},
]
SCHEMA_DOC = Path(__file__).parents[3] / "docs" / "schemas" / "portability-package.json"


def _package(recipient: PackageRecipient | None = None) -> tuple[zipfile.ZipFile, uuid.UUID]:
    settings = DsarSettings(**SETTINGS)
    request = DsarRequest(
        tenant_id="acme",
        request_type="portability",
        state="in_progress",
        regime_id="eu-gdpr",
        subject_ref="f" * 64,
        received_at=AT,
        entered_at=AT,
        clock_started_on=date(2026, 3, 2),
        due_at=AT,
        initial_due_at=AT,
        deadline_basis="GDPR Art. 12(3)",
        created_at=AT,
        updated_at=AT,
    )

    def task(key: str, records: list[dict[str, Any]] | None) -> DsarTask:
        return DsarTask(
            tenant_id="acme",
            request_id=request.id,
            system_key=key,
            action="portability",
            subject_ref="f" * 64,
            outcome="done" if records else "no_data",
            due_at=AT,
            published_at=AT,
            export_enc=seal(settings, records) if records else None,
            created_at=AT,
        )

    crm = DataSystem(
        tenant_id="acme",
        key="crm",
        name="CRM",
        owner="sales@example.com",
        data_categories=["contact"],
        purposes=["billing"],
        created_at=AT,
        updated_at=AT,
    )
    package_id = uuid.uuid4()
    content = build_zip(
        request,
        [task("crm", RECORDS), task("analytics", None)],
        [crm],
        settings,
        AT,
        package_id=package_id,
        tenant="acme",
        recipient=recipient,
    )
    return zipfile.ZipFile(io.BytesIO(content)), package_id


def test_the_package_document_follows_the_published_schema() -> None:
    archive, package_id = _package(PackageRecipient(name="Globex Bank", endpoint="https://bank.example/in"))
    document = json.loads(archive.read("personal-data.json"))
    schema = json.loads(SCHEMA_DOC.read_text())
    assert schema == package_schema()  # `privops docs` writes it; `privops docs --check` fails when stale
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(document, schema)
    assert document["package_id"] == str(package_id)
    assert document["recipient"] == {"name": "Globex Bank", "endpoint": "https://bank.example/in"}
    crm, analytics = document["systems"]
    assert (crm["name"], crm["purposes"], crm["record_count"], crm["records"]) == ("CRM", ["billing"], 2, RECORDS)
    assert (analytics["outcome"], analytics["records"]) == ("no_data", [])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document | {"systems": [{**crm, "record_count": -1}]}, schema)
    with pytest.raises(ValidationError):
        PortabilityPackage.model_validate({k: v for k, v in document.items() if k != "controller"})


def test_every_file_is_in_the_manifest_and_the_checksums_with_its_sha256() -> None:
    archive, _ = _package()
    names = archive.namelist()
    manifest = json.loads(archive.read("manifest.json"))
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(listed) == set(names) - {"manifest.json", "checksums.sha256"}
    for path, entry in listed.items():
        body = archive.read(path)
        assert (entry["sha256"], entry["bytes"]) == (hashlib.sha256(body).hexdigest(), len(body))
    assert manifest["schema"] == "https://dsar.example/v1/schemas/portability-package.json"
    sums = dict(reversed(line.split("  ", 1)) for line in archive.read("checksums.sha256").decode().splitlines())
    assert set(sums) == set(names) - {"checksums.sha256"}
    assert all(hashlib.sha256(archive.read(path)).hexdigest() == digest for path, digest in sums.items())
    rows = list(csv.DictReader(io.StringIO(archive.read("systems/crm/records.csv").decode())))
    assert rows[0]["name"] == "Ada Lovelace" and json.loads(rows[0]["address"]) == {"city": "London"}
    assert archive.read("systems/analytics/records.csv") == b"\n"
