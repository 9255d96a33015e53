"""Evidence packs: every service's evidence for a tenant, gathered over HTTP by the identity service, signed.

The services run in-process, each served on a real loopback socket; they verify the identity
service's EdDSA tokens through its JWKS, as in production. The tenant's data comes from the
hardening factories (raw emails, phone numbers, names, user ids), and the pack must hold none of
them, nor any subject reference; it verifies offline with the tenant's saved public keys.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from deploy.cli import app as cli
from shared.rules import evidence_pack
from tests.hardening.factories import EMAIL, FACTORIES, NAME, PHONE, USER_ID, call
from tests.hardening.support import TENANT_A, service
from tests.hardening.test_no_personal_data import MORE
from tests.support.pii import leaks, variants
from tests.support.stack import Infra, RunningService, auth, loopback_socket, serve_http, socket_url

pytestmark = pytest.mark.integration
DATA_SERVICES = ("consent", "dsar", "retention", "breach", "subprocessor", "notify")
PERIOD = {"since": "2026-01-01", "until": "2026-12-31"}
runner = CliRunner()


@contextlib.asynccontextmanager
async def platform(
    infra: Infra, topic_prefix: str, tmp_path: Path, names: tuple[str, ...], down: tuple[str, ...] = ()
) -> AsyncIterator[tuple[dict[str, RunningService], dict[str, dict[str, str]]]]:
    """Identity and ``names`` served over HTTP, each on tenant A's factory data (with the factories' ids);
    ``down`` have a URL and no server."""
    sockets = {name: loopback_socket() for name in ("identity", *names, *down)}
    urls = {name: socket_url(sock) for name, sock in sockets.items()}
    jwks = {"jwt_jwks_url": urls["identity"] + "/.well-known/jwks.json"}
    async with contextlib.AsyncExitStack() as stack:
        for sock in sockets.values():
            stack.callback(sock.close)
        peers = {name: url for name, url in urls.items() if name != "identity"}
        running = {
            "identity": await stack.enter_async_context(
                service(infra, "identity", topic_prefix, tmp_path, service_urls=peers, public_url=urls["identity"])
            )
        }
        for name in names:
            running[name] = await stack.enter_async_context(service(infra, name, topic_prefix, tmp_path, **jwks))
        ids = {}
        for name, svc in running.items():
            await stack.enter_async_context(serve_http(svc.app, sockets[name]))
            ids[name] = await FACTORIES[name](svc, TENANT_A)
            if name in MORE:
                await MORE[name](svc)
            await svc.runtime.jobs.run_once("audit.seal")
        yield running, ids


async def build(identity: RunningService, token_tenant: str = TENANT_A, **body: Any) -> Any:
    """POST /v1/evidence-packs with a token of ``token_tenant`` holding evidence:read."""
    headers = auth(token_tenant, "evidence:read")
    return await identity.client.post("/v1/evidence-packs", json=PERIOD | body, headers=headers, timeout=60.0)


def files_of(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def section(files: dict[str, bytes], path: str) -> Any:
    return json.loads(files[path])


async def stored_refs(svc: RunningService) -> set[str]:
    """Every subject reference the service stored (any ``*_ref``/``subject_refs`` column of any table)."""
    async with svc.runtime.database.session() as session:
        connection = await session.connection()
        columns = (
            await connection.execute(
                text(
                    "SELECT table_name, column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND (column_name LIKE '%\\_ref' OR column_name = 'subject_refs')"
                )
            )
        ).all()
        refs: set[str] = set()
        for table, column, kind in columns:
            values = (await connection.execute(text(f'SELECT DISTINCT "{column}" FROM "{table}"'))).scalars()
            for value in values:
                found = value if kind == "ARRAY" else [value]
                refs |= {str(v) for v in found or () if v and len(str(v)) >= 32}
    return refs


def personal_data(content: bytes, needles: dict[str, str]) -> dict[str, list[str]]:
    """The identifiers found in each file of the pack (the JWS's payload decoded too)."""
    found = {}
    for name, data in files_of(content).items():
        texts = [data.decode()]
        if name == evidence_pack.SIGNATURE:
            payload = texts[0].split(".")[1]
            texts.append(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode())
        if hits := leaks("\n".join(texts), needles):
            found[name] = hits
    return found


async def test_a_pack_gathers_every_service_verifies_offline_and_holds_no_personal_data(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    async with platform(infra, topic_prefix, tmp_path, DATA_SERVICES) as (running, ids):
        identity = running["identity"]
        response = await build(identity, tenant=TENANT_A)  # the token's tenant, named
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/zip"
        assert response.headers["x-evidence-pack-complete"] == "true"
        jwks = (await identity.client.get(f"/.well-known/privops/tenants/{TENANT_A}/jwks.json")).json()
        erased = await call(running["dsar"], TENANT_A, "GET", f"/v1/requests/{ids['dsar']['request_id']}/certificate")
        refs = set().union(*[await stored_refs(svc) for svc in running.values()])

    # Offline: the saved ZIP and the saved key set, no service running.
    pack_file, jwks_file = tmp_path / "pack.zip", tmp_path / "jwks.json"
    pack_file.write_bytes(response.content)
    jwks_file.write_text(json.dumps(jwks))
    result = runner.invoke(cli, ["verify", str(pack_file), "--jwks", str(jwks_file)])
    assert result.exit_code == 0, result.output
    assert f"valid evidence pack {response.headers['x-evidence-pack-id']} of acme" in result.output

    report = evidence_pack.verify_pack(response.content, jwks)
    assert report.ok, report.problems
    manifest = report.manifest
    assert manifest["tenant"] == "acme" and manifest["period"] == PERIOD and manifest["complete"] is True
    assert {name: s["status"] for name, s in manifest["services"].items()} == {
        name: "answered" for name in ("identity", *DATA_SERVICES)
    }
    assert report.claims["iss"].endswith("/tenants/acme")
    files = files_of(response.content)
    assert set(files) == {f["path"] for f in manifest["files"]} | {"manifest.json", "manifest.jws"}

    # What each service says, for the period.
    systems = section(files, "dsar/data_map.json")["systems"]
    assert [s["key"] for s in systems] == ["crm"] and "owner" not in systems[0]
    requests = section(files, "dsar/requests.json")
    assert requests["by_type"] == {"access": 1, "erasure": 2}
    assert requests["closed_in_period"]["closed"] == 1 and requests["closed_in_period"]["on_time"] == 1
    (certificate,) = section(files, "dsar/erasure_certificates.json")["certificates"]
    assert certificate["certificate_id"] == ids["dsar"]["certificate_id"] == erased["id"]
    # Whoever holds the certificate finds it listed by the hash of its JWS.
    assert certificate["jws_sha256"] == hashlib.sha256(erased["signature"].encode()).hexdigest()
    assert certificate["kid"] and certificate["outcome"]
    assert "dsar/erasure_certificates.certificates.csv" in files
    assert section(files, "retention/legal_holds.json")["holds"][0]["on_person"] is True
    assert section(files, "retention/sweeps.json")["sweeps"]
    assert [p["key"] for p in section(files, "consent/purposes.json")["purposes"]] == ["newsletter"]
    assert section(files, "consent/decisions.json")["recorded_in_period"] >= 3
    incidents = section(files, "breach/breach_register.json")["incidents"]
    # The factory's two incidents (one where the tenant is processor) and the one reported above.
    assert len(incidents) == 3 and all("description" not in i for i in incidents)
    notices = section(files, "breach/breach_notices.json")["notices"]
    assert sorted((n["kind"], n["status"]) for n in notices) == [("authority", "sent"), ("individuals", "draft")]
    (change,) = section(files, "subprocessor/changes.json")["changes"]
    assert change["notices"] and change["objections"][0]["customer"] == "initech"
    assert section(files, "notify/messages.json")["queued"] >= 1
    assert section(files, "identity/access.json")["people_by_role"] == {"dpo": 2}
    for name in ("identity", *DATA_SERVICES):
        chain = section(files, f"{name}/audit_chain.json")
        assert chain["ok"] is True and chain["checked"] > 0 and chain["tenant_entries"] > 0, (name, chain)

    # No email, phone number, name, user id or subject reference anywhere, the signed claims included.
    assert len(refs) >= 5
    needles = variants([EMAIL, PHONE, NAME, USER_ID, *refs])
    assert personal_data(response.content, needles) == {}


async def test_a_service_that_is_down_is_named_and_the_pack_still_verifies(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    async with platform(infra, topic_prefix, tmp_path, ("dsar",), down=("retention",)) as (running, _):
        identity, dsar = running["identity"], running["dsar"]
        response = await build(identity)
        assert response.status_code == 200, response.text
        assert response.headers["x-evidence-pack-complete"] == "false"
        jwks = (await identity.client.get(f"/.well-known/privops/tenants/{TENANT_A}/jwks.json")).json()
        report = evidence_pack.verify_pack(response.content, jwks)
        assert report.ok, report.problems
        services = report.manifest["services"]
        assert services["dsar"]["status"] == "answered" and report.manifest["complete"] is False
        assert services["retention"]["status"] == "unavailable" and "ConnectError" in services["retention"]["reason"]
        assert not any(f["path"].startswith("retention/") for f in report.manifest["files"])

        # Who may ask: a token, with evidence:read, of the tenant asked for.
        assert (await identity.client.post("/v1/evidence-packs", json=PERIOD)).status_code == 401
        wrong_scope = await identity.client.post("/v1/evidence-packs", json=PERIOD, headers=auth("acme", "dsar:admin"))
        assert wrong_scope.status_code == 403
        assert wrong_scope.headers["content-type"].startswith("application/problem+json")
        other = await build(identity, token_tenant="globex", tenant="acme")
        assert other.status_code == 404
        backwards = await build(identity, since="2026-12-31", until="2026-01-01")
        assert backwards.status_code == 422 and backwards.json()["errors"] == [{"field": "until"}]
        params = PERIOD
        assert (await dsar.client.get("/v1/evidence", params=params)).status_code == 401
        refused = await dsar.client.get("/v1/evidence", params=params, headers=auth("acme", "dsar:admin"))
        assert refused.status_code == 403
        own = await dsar.client.get("/v1/evidence", params=params, headers=auth("acme", "evidence:read"))
        assert own.status_code == 200 and own.json()["tenant"] == "acme" and own.json()["sections"]["data_map"]
        globex = await dsar.client.get("/v1/evidence", params=params, headers=auth("globex", "evidence:read"))
        assert globex.status_code == 200 and globex.json()["sections"]["data_map"]["systems"] == []
