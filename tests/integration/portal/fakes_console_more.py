"""The services behind the console's newer pages, faked at the HTTP level: authorities' demands, contract ends,
the evidence pack, notices to individuals, consent notice campaigns and portability transfers.

Every call is made as ``user:dpo@demo.example`` (the fake token's subject): a demand or a contract end
recorded by that principal cannot be decided or confirmed by it, as the services refuse.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from tests.integration.portal.fakes import NOW
from tests.integration.portal.fakes_console import Console, problem

ME = "user:dpo@demo.example"
OTHER = "user:camille@demo.example"
DEMAND_ID = "b1c2d3e4-6666-4f70-8a81-92a3b4c5d6e7"
END_ID = "c2d3e4f5-7777-4a81-9b92-a3b4c5d6e7f8"
END_TASK_ID = "d3e4f5a6-8888-4b92-8ca3-b4c5d6e7f809"
SUBJECT_REF = "ab" * 32
PACK = b"PK\x03\x04" + b"pack-bytes" * 1000


def a_demand(**changes: Any) -> dict[str, Any]:
    """A demand as the subprocessor service shows it."""
    return {
        "id": DEMAND_ID,
        "customer_id": "d5b2f3a4-2222-4b3c-9d4e-0f9e8d7c6b52",
        "authority_name": "Brigade de répression de la délinquance astucieuse",
        "authority_country": "FR",
        "outside_eea": False,
        "legal_basis": "Réquisition judiciaire",
        "legal_reference": "Code de procédure pénale, art. 60-1",
        "authority_reference": "BRDA-2026-0412",
        "received_at": (NOW - timedelta(days=1)).isoformat(),
        "data_categories": ["contact_details", "connection_logs"],
        "subject_refs": [SUBJECT_REF],
        "status": "received",
        "recorded_by": ME,
        "recorded_at": NOW.isoformat(),
        "reviewer": None,
        "reviewed_at": None,
        "decision": None,
        "reasoning": None,
        "notification": "requested",
        "notification_requested_at": NOW.isoformat(),
        "customer_notified_at": None,
        "closed_at": None,
        "deferrals": [],
        "disclosures": [],
        "timeline": [
            {
                "at": NOW.isoformat(),
                "kind": "recorded",
                "outcome": "",
                "actor": ME,
                "detail": {},
                "notification_id": None,
                "contact_id": None,
            }
        ],
    } | changes


def a_contract_end(**changes: Any) -> dict[str, Any]:
    """A contract end as the DSAR service shows it."""
    return {
        "id": END_ID,
        "mode": "return_then_delete",
        "state": "requested",
        "effective_at": (NOW + timedelta(days=30)).isoformat(),
        "reason": "contract terminated by the customer",
        "contract_ref": "MSA-2024-017",
        "requested_by": ME,
        "requested_by_name": "Dana, DPO",
        "requested_at": NOW.isoformat(),
        "confirmed_by": None,
        "confirmed_at": None,
        "cancelled_at": None,
        "started_at": None,
        "package_id": None,
        "package_built_at": None,
        "deletion_started_at": None,
        "completed_at": None,
        "outcome": None,
        "certificate_id": None,
        "tasks": [],
    } | changes


def an_end_task(**changes: Any) -> dict[str, Any]:
    """A system's part of a contract end."""
    return {
        "id": END_TASK_ID,
        "system": "archive",
        "name": "Paper archive",
        "action": "purge_tenant",
        "state": "open",
        "outcome": None,
        "manual": True,
        "attempt": 0,
        "records_affected": 0,
        "exemptions": [],
        "detail": None,
        "error": None,
        "store_client": None,
        "started_at": NOW.isoformat(),
        "completed_at": None,
        "closed_by": None,
        "evidence": None,
    } | changes


@dataclass
class MoreConsole(Console):
    """The console's services, with the newer routes."""

    demands: dict[str, dict[str, Any]] = field(default_factory=lambda: {DEMAND_ID: a_demand()})
    ends: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfers: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    campaigns: dict[str, dict[str, Any]] = field(default_factory=dict)
    published: list[dict[str, Any]] = field(default_factory=list)
    pack_status: int = 200

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "identity.test" and request.url.path == "/v1/evidence-packs":
            super().handle(request)  # records the call
            if self.deny:
                return problem(403, "The token lacks the scope.")
            if self.pack_status != 200:
                return problem(self.pack_status, "until is before since")
            headers = {
                "Content-Disposition": 'attachment; filename="evidence-demo-2026-01-01-2026-03-09.zip"',
                "X-Evidence-Pack-Id": "pack-1",
                "X-Evidence-Pack-Complete": "true",
            }
            return httpx.Response(200, content=PACK, headers=headers | {"Content-Type": "application/zip"})
        return super().handle(request)

    # --- subprocessor: demands --------------------------------------------------------------------------

    def _subprocessor(self, method: str, path: str, body: Any) -> httpx.Response:
        if not path.startswith("/v1/demands"):
            return super()._subprocessor(method, path, body)
        if path == "/v1/demands" and method == "GET":
            status = self.params.get("status")
            return httpx.Response(200, json=[d for d in self.demands.values() if status in (None, d["status"])])
        if path == "/v1/demands":
            created = a_demand(id=str(uuid.uuid4()), authority_name=body["authority"]["name"])
            created["notification"] = "deferred" if body.get("deferral") else "requested"
            self.demands[created["id"]] = created
            return httpx.Response(201, json=created)
        parts = path.split("/")  # "", v1, demands, id, action…
        demand = self.demands.get(parts[3])
        if demand is None:
            return problem(404, "No such demand.")
        action = "/".join(parts[4:])
        if action == "review/start":
            demand["status"] = "under_review"
        elif action == "review":
            if demand["status"] not in ("under_review", "challenged"):
                return problem(409, "a demand that is received is not under review; start the review first")
            if demand["recorded_by"] == ME:
                return problem(409, "the person who recorded the demand may not review it; another person decides")
            demand |= {"status": body["decision"], "decision": body["decision"], "reasoning": body["reasoning"]}
            demand |= {"reviewer": ME, "reviewed_at": NOW.isoformat()}
        elif action == "disclosures":
            demand["disclosures"].append(body | {"id": str(uuid.uuid4()), "recorded_by": ME, "published_at": None})
        elif action == "deferral":
            deferral = body | {"id": str(uuid.uuid4()), "recorded_by": ME, "recorded_at": NOW.isoformat()}
            demand["deferrals"].append(deferral | {"reminded_at": None, "ended_at": None})
            demand["notification"] = "deferred"
        elif action == "notification":
            demand["notification"] = "requested"
        elif action == "close":
            demand |= {"status": "closed", "closed_at": NOW.isoformat()}
        return httpx.Response(201 if action in ("disclosures", "deferral") else 200, json=demand)

    # --- dsar: contract ends and transfers ----------------------------------------------------------

    def _dsar(self, method: str, path: str, body: Any) -> httpx.Response:
        if path.startswith("/v1/contract-ends"):
            return self._contract_ends(method, path, body)
        if path.endswith("/transfers"):
            return httpx.Response(200, json=self.transfers)
        return super()._dsar(method, path, body)

    def _contract_ends(self, method: str, path: str, body: Any) -> httpx.Response:
        if path == "/v1/contract-ends" and method == "GET":
            return httpx.Response(200, json=list(self.ends.values()))
        if path == "/v1/contract-ends":
            if any(e["state"] != "cancelled" for e in self.ends.values()):
                return problem(409, "Another contract end of this tenant is under way.")
            created = a_contract_end(mode=body["mode"], effective_at=body["effective_at"], reason=body["reason"])
            self.ends[created["id"]] = created
            return httpx.Response(201, json=created)
        parts = path.split("/")  # "", v1, contract-ends, id, action…
        end = self.ends.get(parts[3])
        if end is None:
            return problem(404, "No such contract end.")
        action = "/".join(parts[4:])
        if action == "confirm":
            if end["requested_by"] == ME:
                return problem(403, "The person who asked for a contract end may not confirm it.")
            if end["state"] != "requested":
                return problem(409, "It is not waiting for confirmation.")
            end |= {"state": "confirmed", "confirmed_by": ME, "confirmed_at": NOW.isoformat()}
        elif action == "cancel":
            end |= {"state": "cancelled", "cancelled_at": NOW.isoformat()}
        elif action.startswith("tasks/"):
            task = next(t for t in end["tasks"] if t["id"] == parts[5])
            task |= {"state": "closed", "outcome": body["outcome"], "closed_by": ME, "evidence": body["evidence"]}
        elif action == "certificate":
            if not end["certificate_id"]:
                return problem(404, "This contract end has no certificate yet.")
            certificate = {"type": "destruction-certificate", "tenant": "demo", "systems": []}
            return httpx.Response(
                200,
                json={
                    "id": end["certificate_id"],
                    "contract_end_id": END_ID,
                    "certificate": certificate,
                    "jws": "eyJ.eyJ.sig",
                    "signed_at": NOW.isoformat(),
                    "jwks_url": "http://identity.test/.well-known/privops/tenants/demo/jwks.json",
                },
            )
        return httpx.Response(200, json=end)
