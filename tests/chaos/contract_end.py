"""The end of a second tenant's contract under the faults: a store killed during its purge, nothing lost or doubled.

Before the load, the tenant ``chaos-ended`` gets data in every system: its own demo CRM (a database of
its own) and analytics store seed themselves when they start, and through the APIs it gets a purpose,
a few consents and the privops systems in its DSAR registry (no legal hold). During the faults
(the runner's ``contract-end`` fault) the rows it holds are counted, the operator's CLI asks for the
end (``mode: delete``) and a second admin client confirms it (four eyes); as soon as its CRM store
has committed the purge, that store is killed (``kill -9``) and restarted, before or while it answers.
After the run: the contract end completed with one closed purge task per system, each counting
exactly the rows the tenant held (the CRM's invoices kept once, on their legal ground), nothing of
the tenant is left in the deleted tables (but the certificate's mail, sent after them), and the
certificate of destruction verifies with the tenant's published keys and reached the customer once
(GDPR Art. 28(3)(g), https://eur-lex.europa.eu/eli/reg/2016/679/oj).
"""

from __future__ import annotations

import asyncio
import importlib
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from shared.bus.tenant_store import TenantData
from shared.rules import keys
from shared.runtime.auth import SERVICES
from tests.chaos.checks import Check, recipient
from tests.chaos.stack import ENDED_CRM_DATABASE, ENDED_STORES, ENDED_TENANT, ChaosStack

NOTIFY_TO = "dpo@chaos-ended.example"
CONSENTS = 5
CRM_STORE = "crm-store-ended"
PURPOSE = {
    "key": "newsletter",
    "name": "Newsletter",
    "description": "The ended customer's newsletter",
    "lawful_basis": "consent",
    "data_categories": ["contact.email"],
    "validity": "P3Y",
}
# What the demo stores delete at a contract's end, and what the CRM keeps (its invoices, Code de commerce
# art. L123-22): examples/crm/tenant.py, examples/analytics/store.py.
STORE_DELETED = {"crm": ("contacts", "notes", "subscriptions"), "analytics": ("profiles", "events")}
CRM_KEPT = "invoices"
CERTIFICATE_TYP = "destruction-certificate+jwt"
# The certificate goes to the customer's contact once every purge is done: its message (dsar's request to
# notify, notify's message and delivery attempts) is written after the purges, and is not the tenant's old data.
CERTIFICATE_MAIL = "template <> 'dsar.contract_end.certificate'"
NOT_CERTIFICATE_MAIL = {
    ("dsar", "dsar_notification"): CERTIFICATE_MAIL,
    ("notify", "message"): CERTIFICATE_MAIL,
    ("notify", "delivery_attempt"): f"message_id IN (SELECT id FROM message WHERE {CERTIFICATE_MAIL})",
}


@dataclass
class ContractEndRun:
    """The contract end of the run: what the tenant held, the fault that landed on it, and what came back."""

    end_id: str | None = None
    held: dict[str, int] = field(default_factory=dict)  # per system: rows its purge must delete
    invoices: int = 0  # rows the CRM keeps
    fault: str = ""
    at_kill: dict[str, Any] = field(default_factory=dict)
    confirmed_at: float | None = None
    completed_in_s: float | None = None
    state: str | None = None


def declaration(service: str) -> TenantData:
    """A privops service's tenant data (``tenant_data`` of its store)."""
    module = importlib.import_module(f"services.{service}.service.store")
    (data,) = [v.tenant_data for v in vars(module).values() if isinstance(v, type) and hasattr(v, "tenant_data")]
    assert isinstance(data, TenantData)
    return data


def _ok(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code not in (200, 201):
        raise RuntimeError(f"{ENDED_TENANT}: {what} failed: {response.status_code} {response.text[:300]}")
    body: dict[str, Any] = response.json() if response.content else {}
    return body


def seed(stack: ChaosStack, timeout: float = 60.0) -> None:
    """The tenant's purpose, consents and registry (its stores seeded themselves); wait for the stores to register."""
    with httpx.Client(headers={"Authorization": f"Bearer {stack.token_for(ENDED_TENANT)}"}, timeout=30.0) as client:
        _ok(client.post(f"{stack.urls['consent']}/v1/purposes", json=PURPOSE), "purpose")
        for i in range(CONSENTS):
            body = {
                "subject": {"kind": "email", "value": f"chaos-ended-{i}@example.test"},
                "purpose": "newsletter",
                "decision": "granted",
                "channel": "web",
                "collector": "chaos-ended",
            }
            _ok(client.post(f"{stack.urls['consent']}/v1/consents", json=body), f"consent {i}")
        _ok(client.post(f"{stack.urls['dsar']}/v1/systems/setup"), "DSAR registry")
    deadline = time.monotonic() + timeout
    sql = f"SELECT key FROM dsar_data_system WHERE tenant_id = '{ENDED_TENANT}'"
    while set(ENDED_STORES.values()) - {r for r in stack.pg.psql(sql, database="dsar").split()}:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{ENDED_TENANT}: its demo stores did not register in {timeout:.0f} s")
        time.sleep(0.5)


def _count(stack: ChaosStack, database: str, table: str) -> int:
    """The tenant's rows in ``table`` (the certificate's own mail left out)."""
    extra = NOT_CERTIFICATE_MAIL.get((database, table))
    where = f"tenant_id = '{ENDED_TENANT}'" + (f" AND {extra}" if extra else "")
    return int(stack.pg.psql(f"SELECT count(*) FROM {table} WHERE {where}", database=database))


def privops_rows(stack: ChaosStack) -> dict[str, int]:
    """Per privops system: the tenant's rows in the tables its contract-end purge deletes."""
    return {
        f"privops-{service}": sum(_count(stack, service, str(m.__tablename__)) for m in declaration(service).deleted)
        for service in SERVICES
    }


def store_rows(stack: ChaosStack) -> dict[str, dict[str, int]]:
    """Per demo store of the tenant: its rows by table (the CRM's invoices included)."""
    crm = {
        t: int(stack.pg.psql(f"SELECT count(*) FROM {t}", database=ENDED_CRM_DATABASE))
        for t in (*STORE_DELETED["crm"], CRM_KEPT)
    }
    db = sqlite3.connect(str(stack.analytics_path("analytics-store-ended")))
    try:
        analytics = {t: int(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in STORE_DELETED["analytics"]}
    finally:
        db.close()
    return {"crm": crm, "analytics": analytics}


async def _psql(stack: ChaosStack, sql: str, database: str) -> str | None:
    try:
        return await asyncio.to_thread(stack.pg.psql, sql, database)
    except RuntimeError:
        return None


async def end_and_kill(stack: ChaosStack, run: ContractEndRun, timeout: float = 90.0) -> str:
    """Count what the tenant holds, ask for its end, confirm it (another principal), kill its CRM during the purge."""
    run.held = await asyncio.to_thread(privops_rows, stack)
    stores = await asyncio.to_thread(store_rows, stack)
    for system, tables in STORE_DELETED.items():
        run.held[system] = sum(stores[system][t] for t in tables)
    run.invoices = stores["crm"][CRM_KEPT]
    body = {
        "mode": "delete",
        "effective_at": datetime.now(UTC).isoformat(),
        "reason": "chaos run: the customer's contract ended",
        "contract_ref": "CHAOS-MSA-1",
        "requested_by": "chaos run operator",
        "notify_to": NOTIFY_TO,
        "locale": "en",
    }
    dsar = stack.urls["dsar"]
    async with httpx.AsyncClient(timeout=30.0) as client:
        asked = await client.post(
            f"{dsar}/v1/contract-ends", json=body, headers={"Authorization": f"Bearer {stack.token_for(ENDED_TENANT)}"}
        )
        run.end_id = str(_ok(asked, "contract end")["id"])
        approver = await asyncio.to_thread(stack.approver_token)
        confirmed = await client.post(
            f"{dsar}/v1/contract-ends/{run.end_id}/confirm", headers={"Authorization": f"Bearer {approver}"}
        )
        _ok(confirmed, "confirmation by the second admin")
    run.confirmed_at = time.monotonic()
    # The CRM records its purge under the task in the deletion's transaction: kill it once that committed,
    # while its answer is being written to its ledger and sent (or just after).
    began = time.monotonic()
    purged = None
    while time.monotonic() - began < timeout:
        purged = await _psql(stack, "SELECT count(*) FROM tenant_purges", ENDED_CRM_DATABASE)
        if purged and int(purged) > 0:
            break
        await asyncio.sleep(0.01)
    answered = await _psql(
        stack,
        "SELECT state FROM dsar_contract_end_task WHERE system_key = 'crm' AND action = 'purge_tenant' "
        f"AND contract_end_id = '{run.end_id}'",
        "dsar",
    )
    pid = await asyncio.to_thread(stack.kill, CRM_STORE)
    stack.restart(CRM_STORE)
    run.at_kill = {
        "seconds_after_confirmation": round(time.monotonic() - run.confirmed_at, 2),
        "crm_purge_committed": bool(purged and int(purged) > 0),
        "crm_task_state_in_dsar": (answered or "").strip() or "not yet fanned out",
    }
    run.fault = (
        f"contract end {run.end_id} confirmed; kill -9 of {CRM_STORE} pid {pid} "
        f"{'after its purge committed' if run.at_kill['crm_purge_committed'] else 'before its purge'} "
        f"(dsar's task: {run.at_kill['crm_task_state_in_dsar']}), restarted as pid {stack.procs[CRM_STORE].pid}"
    )
    return run.fault


async def wait_completed(stack: ChaosStack, run: ContractEndRun, timeout: float = 180.0) -> None:
    """Wait (bounded) until the contract end is completed and its certificate signed; then retire its stores."""
    if run.end_id is None:
        return
    began = time.monotonic()
    headers = {"Authorization": f"Bearer {await asyncio.to_thread(stack.token_for, ENDED_TENANT)}"}
    async with httpx.AsyncClient(timeout=10.0, headers=headers) as client:
        while time.monotonic() - began < timeout:
            await asyncio.to_thread(stack.supervise)
            try:
                end = (await client.get(f"{stack.urls['dsar']}/v1/contract-ends/{run.end_id}")).json()
                run.state = end.get("state")
                if run.state == "completed" and end.get("confirmed_at") and end.get("completed_at"):
                    took = datetime.fromisoformat(end["completed_at"]) - datetime.fromisoformat(end["confirmed_at"])
                    run.completed_in_s = round(took.total_seconds(), 1)
                    cert = await client.get(f"{stack.urls['dsar']}/v1/contract-ends/{run.end_id}/certificate")
                    if cert.status_code == 200 and cert.json().get("jws"):
                        break
            except (httpx.HTTPError, ValueError):
                pass
            await asyncio.sleep(1)
    for name in ENDED_STORES:  # their clients are gone: a restart could not even register
        await asyncio.to_thread(stack.retire, name)


def contract_end_checks(stack: ChaosStack, run: ContractEndRun) -> tuple[list[Check], dict[str, Any]]:
    """What the contract end must have done, whatever the faults: see the module's docstring."""
    checks: list[Check] = []

    def check(name: str, expected: Any, actual: Any) -> None:
        checks.append(Check(f"contract end: {name}", expected, actual, expected == actual))

    check("completed (no step waiting for a person)", "completed", run.state)
    headers = {"Authorization": f"Bearer {stack.token_for(ENDED_TENANT)}"}
    with httpx.Client(timeout=10.0, headers=headers) as client:
        end = client.get(f"{stack.urls['dsar']}/v1/contract-ends/{run.end_id}").json() if run.end_id else {}
        purges = [t for t in end.get("tasks", []) if t["action"] == "purge_tenant"]
        per_system: dict[str, list[dict[str, Any]]] = {}
        for task in purges:
            per_system.setdefault(task["system"], []).append(task)
        systems = sorted(run.held)
        check("one purge task per system", {s: 1 for s in systems}, {s: len(per_system.get(s, [])) for s in systems})
        closed = {s: [t["state"] for t in per_system.get(s, [])] for s in systems}
        check("purge tasks closed", {s: ["closed"] for s in systems}, closed)
        affected = {s: sum(t["records_affected"] for t in per_system.get(s, [])) for s in systems}
        check("records deleted per system = rows the tenant held (none lost, none twice)", run.held, affected)
        kept = [e for t in per_system.get("crm", []) for e in t["exemptions"] if e["what"] == CRM_KEPT]
        check("crm: invoices kept, counted once", [run.invoices], [e["records"] for e in kept])
        certificate = client.get(f"{stack.urls['dsar']}/v1/contract-ends/{run.end_id}/certificate")
        document = certificate.json() if certificate.status_code == 200 else {}
        verified = False
        if document.get("jws"):
            jwks = httpx.get(document["jwks_url"], timeout=10.0).json()
            try:
                claims = keys.verify(document["jws"], jwks, typ=CERTIFICATE_TYP)
                signed = claims.get("certificate", {})
                verified = claims.get("sub") == f"contract-end:{run.end_id}" and signed == document["certificate"]
            except keys.SignatureInvalid:
                verified = False
        check("certificate verifies with the tenant's published keys", True, verified)
    left = store_rows(stack)
    check(
        "demo stores' rows left (the CRM's invoices only, not seeded again)",
        {
            "crm": {**{t: 0 for t in STORE_DELETED["crm"]}, CRM_KEPT: run.invoices},
            "analytics": {"profiles": 0, "events": 0},
        },
        left,
    )
    privops_left = privops_rows(stack)
    check(
        "privops services' rows left in the tables they delete (but the certificate's mail)",
        {s: 0 for s in privops_left},
        privops_left,
    )
    mailbox = stack.smtp.mailbox if stack.smtp else None
    mails = [p for p in mailbox.glob("*.eml") if NOTIFY_TO in recipient(p)] if mailbox else []
    check("certificate mails to the customer's contact", 1, len(mails))
    counts = {
        "tenant": ENDED_TENANT,
        "id": run.end_id,
        "rows_held_before": run.held,
        "crm_invoices_kept_before": run.invoices,
        "records_deleted": affected,
        "crm_invoices_exempt": [e["records"] for e in kept],
        "fault_during_it": run.fault,
        "at_kill": run.at_kill,
        "completed_in_s_after_confirmation": run.completed_in_s,
        "attempts": {s: [t["attempt"] for t in per_system.get(s, [])] for s in systems},
    }
    return checks, counts


def contract_end_lines(counts: dict[str, Any]) -> list[str]:
    """The report's section on the contract end: rows held and deleted per system, the fault that landed on it."""
    if not counts:
        return []
    held, deleted = counts.get("rows_held_before") or {}, counts.get("records_deleted") or {}
    lines = [
        "",
        f"## Contract end of `{counts.get('tenant')}` ({counts.get('id')})",
        "",
        f"Fault during it: {counts.get('fault_during_it') or 'none'}. Completed "
        f"{counts.get('completed_in_s_after_confirmation')} s after its confirmation; the CRM kept "
        f"{counts.get('crm_invoices_kept_before')} invoices (exemptions counted: {counts.get('crm_invoices_exempt')}).",
        "",
        "| system | rows held (seeded) | records deleted | purge attempts |",
        "|---|---|---|---|",
    ]
    attempts = counts.get("attempts") or {}
    lines += [f"| {s} | {held[s]} | {deleted.get(s)} | {attempts.get(s)} |" for s in sorted(held)]
    return lines
