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
    ends_api: bool = True
    pack_timeout: dict[str, float] = field(default_factory=dict)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "identity.test" and request.url.path == "/v1/evidence-packs":
            super().handle(request)  # records the call
            self.pack_timeout = request.extensions.get("timeout", {})
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
        if path.startswith("/v1/contract-ends") and self.ends_api:
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


@dataclass
class PeopleConsole(MoreConsole):
    """With notices to individuals (breach), notice campaigns (consent) and portability transfers (DSAR)."""

    newsletter_notices: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)

    def _breach(self, method: str, path: str, body: Any) -> httpx.Response:
        parts = path.strip("/").split("/")  # v1, incidents|notices, id, action
        if parts[1] == "incidents" and parts[-1] == "affected-contacts":
            self.contacts.extend(body["contacts"])
            total = len(self.contacts)
            return httpx.Response(200, json={"added": len(body["contacts"]), "total": total, "with_address": total})
        if parts[1] != "notices" or parts[-1] == "send":
            return super()._breach(method, path, body)
        notice = next((n for n in self.notices if n["id"] == parts[2]), None)
        if notice is None:
            return problem(404, "No such notice.")
        action = parts[3]
        if action == "approvals":
            return httpx.Response(200, json=[a for a in self.approvals if a["notice_id"] == notice["id"]])
        if action == "deliveries":
            counts = {"delivered": 118, "failed": 2}
            return httpx.Response(
                200, json={"notice_id": notice["id"], "total": 120, "counts": counts, "complete": True}
            )
        if action == "public-communication":
            notice |= {"public_communication": body, "status": "sent", "sent_at": NOW.isoformat()}
            return httpx.Response(200, json=notice)
        if notice.get("approval_status") != "pending":
            return problem(409, f"the customer already {notice.get('approval_status')} notice {notice['id']}")
        approval = {
            "id": str(uuid.uuid4()),
            "notice_id": notice["id"],
            "customer_id": "acme",
            "method": "link" if action == "approval-request" else "recorded",
            "status": "pending" if action == "approval-request" else body["decision"],
            "requested_by": ME,
            "requested_at": NOW.isoformat(),
            "expires_at": (NOW + timedelta(days=7)).isoformat() if action == "approval-request" else None,
            "mail_status": "requested" if action == "approval-request" else None,
            "mail_detail": None,
            "decided_at": None if action == "approval-request" else NOW.isoformat(),
            "decided_by_name": (body or {}).get("name"),
            "decided_by_email": (body or {}).get("email"),
            "customer_reference": None,
            "means": (body or {}).get("means"),
            "reason": (body or {}).get("reason"),
            "recorded_by": ME,
        }
        self.approvals.append(approval)
        if action == "approval":
            notice["approval_status"] = body["decision"]
        return httpx.Response(201, json=approval)

    def _consent(self, method: str, path: str, body: Any) -> httpx.Response:
        if path == "/v1/purposes/newsletter/notices" and method == "GET" and self.newsletter_notices:
            return httpx.Response(200, json=self.newsletter_notices)
        if path.endswith("/notices") and method == "POST":
            if path != "/v1/purposes/newsletter/notices":
                return problem(404, "No such purpose.")
            self.published.append(body)
            return httpx.Response(201, json={"purpose": "newsletter", "version": 3} | body)
        if "/campaign" in path:
            key = "/".join(path.split("/")[3:6:2])  # purpose/version
            campaign = self.campaigns.get(key)
            if campaign is None:
                return problem(404, "No one was told of this version: it was not a material change.")
            if path.endswith("/recipients"):
                item = {
                    "subject_ref": SUBJECT_REF,
                    "notification_id": None,
                    "locale": "fr",
                    "status": "failed",
                    "reason": "mailbox full",
                    "updated_at": NOW.isoformat(),
                }
                next_after = None if self.params.get("after") else SUBJECT_REF
                return httpx.Response(200, json={"items": [item], "next_after": next_after})
            return httpx.Response(200, json=campaign)
        return super()._consent(method, path, body)


def a_campaign(**changes: Any) -> dict[str, Any]:
    """The campaign of newsletter v2, a material change."""
    return {
        "id": str(uuid.uuid4()),
        "purpose": "newsletter",
        "version": 2,
        "requires_renewal": True,
        "started_at": NOW.isoformat(),
        "targeted": 40,
        "requested": 31,
        "sent": 1,
        "delivered": 27,
        "failed": 3,
        "unreachable": 6,
        "opted_out": 3,
    } | changes


def a_transfer(state: str = "delivered", **changes: Any) -> dict[str, Any]:
    """A portability package sent to the receiving controller."""
    return {
        "id": str(uuid.uuid4()),
        "request_id": "5f0c2b7a-8e1d-4c3b-a2f9-1e0d9c8b7a6f",
        "package_id": str(uuid.uuid4()),
        "controller": "Newbank SA",
        "endpoint": "https://newbank.example/portability",
        "state": state,
        "content_digest": "sha-256=:abc=:",
        "attempts": 2,
        "next_attempt_at": None,
        "last_attempt_at": NOW.isoformat(),
        "response_status": 202 if state == "delivered" else 503,
        "receipt_id": "RCPT-77" if state == "delivered" else None,
        "receipt": '{"received": true}' if state == "delivered" else None,
        "failure_reason": None if state == "delivered" else "the receiver answered 503 five times",
        "delivered_at": NOW.isoformat() if state == "delivered" else None,
        "failed_at": None if state == "delivered" else NOW.isoformat(),
        "created_at": NOW.isoformat(),
        "history": [
            {"at": NOW.isoformat(), "status": None, "error": "connection refused", "receipt": None},
            {"at": NOW.isoformat(), "status": 202, "error": None, "receipt": '{"received": true}'},
        ],
    } | changes
