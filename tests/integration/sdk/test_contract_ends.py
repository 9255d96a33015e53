"""End to end: a customer's contract ends; both demo stores and privops return, then destroy, its data.

Four eyes, the return package (one ZIP, manifest with SHA-256 sums), deletion per system with the
invoices kept under their law, a certificate of destruction that verifies offline, and a redelivered
task that neither deletes twice nor counts twice (GDPR Art. 28(3)(g)).
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from deploy.cli import app as cli
from sdk import Identifiers, Outcome, Store, SystemRegistration, TenantScope
from services.dsar.models import Notification
from services.dsar.service.contract_end_results import TYP
from shared.events.catalogue.contract_ends import ContractEndTaskRequested
from shared.events.topics import DSAR_EVENTS
from shared.rules import keys
from shared.runtime.signing import document_signer
from tests.integration.dsar.support import ADMIN, TENANT, Dsar, serve_dsar
from tests.integration.sdk.support import DemoStores, demo_stores, run_workers, worker_config
from tests.support.stack import Infra, eventually, read_topic, token

pytestmark = pytest.mark.integration
JOB = "dsar.contract-ends"
ALICE = {"Authorization": f"Bearer {token(TENANT, 'dsar:admin', subject='user:alice')}"}
BOB = {"Authorization": f"Bearer {token(TENANT, 'dsar:admin', subject='user:bob')}"}
# The operator (a platform client): still reads an ended tenant's evidence once its own tokens are refused.
PLATFORM = {"Authorization": f"Bearer {token(TENANT, 'dsar:admin', subject='client:ops', extra={'platform': True})}"}


async def test_a_contract_end_returns_then_destroys_everything_with_a_certificate(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar, demo_stores(infra, dsar, tmp_path) as stores:
        await dsar.wait_consumers_ready()
        # privops' own DSAR service answers as a store too (its tenant tables).
        own = {"name": "privops DSAR", "owner": "privacy team", "actions": ["access", "erase"]}
        assert (await dsar.client.put("/v1/systems/privops-dsar", json=own, headers=ADMIN)).status_code in (200, 201)
        end = await _ask_and_confirm(dsar)

        await dsar.runtime.jobs.run_once(JOB)  # the effective date has come
        returning = await _until(dsar, end["id"], lambda b: b["package_built_at"] is not None)
        assert returning["state"] == "returning"
        exports = {t["system"]: t for t in returning["tasks"] if t["action"] == "export_all"}
        assert set(exports) == {"analytics", "crm", "privops-dsar"}
        assert exports["crm"]["records_affected"] == 4 + 8 + 4 + 4  # contacts, notes, subscriptions, invoices
        assert exports["crm"]["store_client"] == "system:crm"
        await _download_and_check_the_return(dsar, end["id"])

        await dsar.runtime.jobs.run_once(JOB)  # downloaded: deletion starts
        done = await _until(dsar, end["id"], lambda b: b["state"] == "completed")
        await _check_the_deletion(done, stores)

        async def tenant_refused() -> bool | None:  # the end recorded, the tenant's own tokens stop working
            response = await dsar.client.get(f"/v1/contract-ends/{end['id']}", headers=ADMIN)
            return True if response.status_code == 401 else None

        await eventually(tenant_refused, timeout=30)
        await _check_the_certificate(dsar, end["id"], tmp_path)
        await _redelivered_purge_changes_nothing(dsar, stores, done)


async def _ask_and_confirm(dsar: Dsar) -> dict[str, Any]:
    body = {
        "mode": "return_then_delete",
        "effective_at": dsar.clock.now().isoformat(),
        "reason": "contract terminated by the customer",
        "contract_ref": "MSA-2024-017",
        "requested_by": "Alice Martin, account manager",
        "notify_to": "dpo@acme.example",
        "locale": "fr",
    }
    created = await dsar.client.post("/v1/contract-ends", json=body, headers=ALICE)
    assert created.status_code == 201, created.text
    end: dict[str, Any] = created.json()
    assert end["state"] == "requested"
    again = await dsar.client.post("/v1/contract-ends", json=body, headers=BOB)
    assert again.status_code == 409  # one contract end of a tenant at a time
    same = await dsar.client.post(f"/v1/contract-ends/{end['id']}/confirm", headers=ALICE)
    assert same.status_code == 403, same.text  # four eyes
    await dsar.runtime.jobs.run_once(JOB)
    assert (await dsar.client.get(f"/v1/contract-ends/{end['id']}", headers=ADMIN)).json()["tasks"] == []
    confirmed = await dsar.client.post(f"/v1/contract-ends/{end['id']}/confirm", headers=BOB)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["confirmed_by"] == "user:bob"
    assert (await dsar.client.post(f"/v1/contract-ends/{end['id']}/confirm", headers=BOB)).status_code == 409
    return end


async def _until(dsar: Dsar, end_id: str, reached: Any) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        await dsar.runtime.jobs.run_once(JOB)
        body: dict[str, Any] = (await dsar.client.get(f"/v1/contract-ends/{end_id}", headers=PLATFORM)).json()
        return body if reached(body) else None

    result: dict[str, Any] = await eventually(check, timeout=40)
    return result


async def _messages(dsar: Dsar, end_id: str, template: str) -> dict[str, Any]:
    async with dsar.runtime.database.session() as session:
        rows = await session.exec(
            select(Notification).where(
                col(Notification.request_id) == uuid.UUID(end_id), col(Notification.template) == template
            )
        )
        (notification,) = rows.all()
    # As the notify service claims it: its own token (a service's), still accepted once the tenant has ended.
    notify = {"Authorization": f"Bearer {token(TENANT, 'notify:claim', subject='service:notify')}"}
    response = await dsar.client.get(f"/v1/notifications/{notification.id}/claim", headers=notify)
    assert response.status_code == 200, response.text
    claimed: dict[str, Any] = response.json()
    return claimed


async def _download_and_check_the_return(dsar: Dsar, end_id: str) -> None:
    message = await _messages(dsar, end_id, "dsar.contract_end.return_ready")
    assert message["to"] == "dpo@acme.example" and message["locale"] == "fr"
    url = message["context"]["url"]
    response = await dsar.client.get(url.removeprefix(dsar.url))
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["systems"]["crm"] == {"contacts": 4, "invoices": 4, "notes": 8, "subscriptions": 4}
    assert manifest["systems"]["analytics"]["profiles"] == 4
    paths = {f["path"] for f in manifest["files"]}
    assert {"crm/invoices.jsonl", "crm/invoices.csv", "analytics/events.jsonl", "analytics/events.csv"} <= paths
    for entry in manifest["files"]:
        assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
    invoices = [json.loads(line) for line in archive.read("crm/invoices.jsonl").decode().splitlines()]
    assert {i["billing_email"] for i in invoices} >= {"ada@example.com", "grace@example.com"}


async def _check_the_deletion(done: dict[str, Any], stores: DemoStores) -> None:
    assert done["outcome"] == "partial"  # the invoices are kept
    purges = {t["system"]: t for t in done["tasks"] if t["action"] == "purge_tenant"}
    assert {t["state"] for t in purges.values()} == {"closed"}
    assert purges["crm"]["records_affected"] == 4 + 8 + 4
    (invoices,) = purges["crm"]["exemptions"]
    assert invoices["what"] == "invoices" and invoices["records"] == 4
    assert "Code de commerce art. L123-22" in invoices["ground"]
    assert purges["analytics"]["records_affected"] == 4 + 4 * 8 and purges["analytics"]["exemptions"] == []
    assert any(e["what"] == "audit log entries" for e in purges["privops-dsar"]["exemptions"])
    assert await stores.crm.count("contacts") == 0 and await stores.crm.count("notes") == 0
    assert await stores.crm.count("invoices") == 4
    assert not await stores.analytics.query("SELECT * FROM events")


async def _check_the_certificate(dsar: Dsar, end_id: str, tmp_path: Path) -> None:
    body = (await dsar.client.get(f"/v1/contract-ends/{end_id}/certificate", headers=PLATFORM)).json()
    deleted = {s["system"]: s for s in body["certificate"]["deleted"]}
    assert "Code de commerce art. L123-22" in deleted["crm"]["exemptions"][0]["ground"]
    assert deleted["crm"]["store_client"] == "system:crm"
    assert body["certificate"]["confirmed_by"] == "user:bob"
    assert body["certificate"]["requested_by_name"] == "Alice Martin, account manager"
    message = await _messages(dsar, end_id, "dsar.contract_end.certificate")
    jws = message["context"]["certificate_jws"]
    assert jws == body["jws"] and keys.header(jws)["typ"] == TYP
    # Offline: the JWS the customer received and nothing but the tenant's public keys.
    (tmp_path / "certificate.jws").write_text(jws)
    (tmp_path / "jwks.json").write_text(json.dumps(await document_signer(dsar.settings).jwks(TENANT)))
    result = CliRunner().invoke(
        cli, ["verify", str(tmp_path / "certificate.jws"), "--jwks", str(tmp_path / "jwks.json")]
    )
    assert result.exit_code == 0, result.output
    assert f"valid {TYP}" in result.output
    forged = jws[:-4] + ("AAAA" if not jws.endswith("AAAA") else "BBBB")
    (tmp_path / "forged.jws").write_text(forged)
    refused = CliRunner().invoke(cli, ["verify", str(tmp_path / "forged.jws"), "--jwks", str(tmp_path / "jwks.json")])
    assert refused.exit_code == 1


async def _redelivered_purge_changes_nothing(dsar: Dsar, stores: DemoStores, done: dict[str, Any]) -> None:
    crm_task = next(t for t in done["tasks"] if t["system"] == "crm" and t["action"] == "purge_tenant")
    redelivered = ContractEndTaskRequested(
        task_id=crm_task["id"],
        contract_end_id=done["id"],
        action="purge_tenant",
        system="crm",
        export_url=f"{dsar.url}/v1/contract-end-tasks/{crm_task['id']}/export",
        due_at=dsar.clock.now(),
        attempt=2,
    )
    assert await stores.workers["crm"]._on_contract_end(TENANT, redelivered) == "duplicate"
    # Even a store that lost its ledger answers from what it recorded with the deletion.
    again = await stores.crm.purge_tenant(TenantScope(TENANT, crm_task["id"], done["id"]))
    assert again.records == crm_task["records_affected"]
    assert await stores.crm.count("invoices") == 4
    after = (await dsar.client.get(f"/v1/contract-ends/{done['id']}", headers=PLATFORM)).json()
    assert next(t for t in after["tasks"] if t["id"] == crm_task["id"])["records_affected"] == 16


class Legacy(Store):
    """A store that answers rights requests but was never taught the end of a contract."""

    async def erase(self, identifiers: Identifiers) -> Outcome:
        return Outcome.no_data()

    async def export(self, identifiers: Identifiers) -> list[dict[str, Any]]:
        return []


async def test_a_store_that_cannot_purge_is_closed_by_a_person_never_counted_done(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    async with serve_dsar(infra, topic_prefix) as dsar:
        registration = SystemRegistration("Legacy ERP", "erp@example.com")
        async with run_workers([(Legacy(), worker_config(infra, dsar, "erp", tmp_path), registration)]):
            await dsar.wait_consumers_ready()
            body = {
                "mode": "delete",
                "effective_at": "2026-03-01T00:00:00Z",
                "reason": "ended",
                "notify_to": "a@b.example",
            }
            cancelled = (await dsar.client.post("/v1/contract-ends", json=body, headers=ALICE)).json()
            assert (
                await dsar.client.post(f"/v1/contract-ends/{cancelled['id']}/cancel", headers=ALICE)
            ).status_code == 200
            assert (
                await dsar.client.post(f"/v1/contract-ends/{cancelled['id']}/confirm", headers=BOB)
            ).status_code == 409
            end = (await dsar.client.post("/v1/contract-ends", json=body, headers=ALICE)).json()
            assert (await dsar.client.post(f"/v1/contract-ends/{end['id']}/confirm", headers=BOB)).status_code == 200
            await dsar.runtime.jobs.run_once(JOB)
            assert (await dsar.client.post(f"/v1/contract-ends/{end['id']}/cancel", headers=BOB)).status_code == 409

            def unsupported(b: dict[str, Any]) -> bool:
                return any(t["outcome"] == "unsupported" for t in b["tasks"])

            waiting = await _until(dsar, end["id"], unsupported)
            assert waiting["state"] == "deleting"  # never silently done
            (task,) = waiting["tasks"]
            assert task["state"] == "open" and "purge_tenant" in task["detail"]
            events = await read_topic(infra.broker.bootstrap, dsar.settings.topic(DSAR_EVENTS), expect=3)
            types = [dict(r.headers)["ce_type"].decode() for r in events]
            assert "io.privops.dsar.contract_end.task.manual" in types  # the privacy team is alerted
            close = {"outcome": "done", "records": 212, "evidence": "ERP tenant dropped by the DBA, ticket OPS-4411"}
            closed = await dsar.client.post(
                f"/v1/contract-ends/{end['id']}/tasks/{task['id']}/close", json=close, headers=BOB
            )
            assert closed.status_code == 200, closed.text
            done = closed.json()
            assert (done["state"], done["outcome"]) == ("completed", "partial")
            certificate = (await dsar.client.get(f"/v1/contract-ends/{end['id']}/certificate", headers=PLATFORM)).json()
            (erp,) = certificate["certificate"]["deleted"]
            assert (erp["confirmation"], erp["closed_by"], erp["records"]) == ("person", "user:bob", 212)
            assert erp["evidence"] == close["evidence"]
