"""The services behind the console, faked at the HTTP level: DSAR decisions, breach, subprocessor, retention, consent.

``Console`` extends the privacy center's fakes with what the console reads and posts; ``deny`` makes every
service answer 403, as it does for a token without the scope.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from tests.integration.portal.fakes import NOW, Services

INCIDENT_ID = "7a1d3c44-2b6e-4f0a-9c1d-5e8f7a6b5c4d"
TASK_ID = "0e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"
CHANGE_ID = "c4a1e2f3-1111-4a2b-8c3d-9e8f7a6b5c41"
CUSTOMER_ID = "d5b2f3a4-2222-4b3c-9d4e-0f9e8d7c6b52"
SUB_ID = "e6c3a4b5-3333-4c4d-8e5f-1a0f9e8d7c63"
HOLD_ID = "f7d4b5c6-4444-4d5e-9f6a-2b1a0f9e8d74"
IMPORT_ID = "a8e5c6d7-5555-4e6f-8a7b-3c2b1a0f9e85"


def first_clock(incident: dict[str, Any]) -> str:
    dues = [d["due_at"] for d in incident.get("deadlines", []) if d.get("status") in ("open", "overdue")]
    return min(dues, default="9999")


def an_incident(**changes: Any) -> dict[str, Any]:
    """An incident as the breach service shows it, its GDPR clock running (72 h from awareness)."""
    aware = NOW - timedelta(hours=60)
    return {
        "id": INCIDENT_ID,
        "reference": "BR-2026-1",
        "title": "Mailbox phished",
        "description": "An attacker read the support mailbox.",
        "detected_at": aware.isoformat(),
        "aware_at": aware.isoformat(),
        "determined_at": None,
        "reporter": "dpo@demo.example",
        "nature": ["confidentiality"],
        "systems": ["support"],
        "data_categories": ["contact"],
        "data_subject_categories": ["customers"],
        "approximate_subjects": 120,
        "approximate_records": None,
        "jurisdictions": ["eu-gdpr"],
        "status": "open",
        "risk": None,
        "notify_authority": None,
        "notify_individuals": None,
        "likely_consequences": None,
        "closed_at": None,
        "deadlines": [
            {
                "id": str(uuid.uuid4()),
                "jurisdiction": "eu-gdpr",
                "audience": "authority",
                "recipient": "CNIL",
                "starts_at": aware.isoformat(),
                "due_at": (aware + timedelta(hours=72)).isoformat(),
                "target_at": (aware + timedelta(hours=72)).isoformat(),
                "rule": "72 hours after awareness",
                "citation": "GDPR Art. 33(1)",
                "verify": False,
                "provisional": True,
                "status": "open",
                "met_at": None,
            }
        ],
    } | changes


def a_notice(status: str = "draft", **changes: Any) -> dict[str, Any]:
    """An initial authority notice with its Art. 33(3) sections."""
    return {
        "id": str(uuid.uuid4()),
        "incident_id": INCIDENT_ID,
        "kind": "authority",
        "stage": "initial",
        "jurisdiction": "eu-gdpr",
        "customer_id": None,
        "recipient": "CNIL",
        "sections": [
            {"field": "nature", "heading": "Nature of the breach", "text": "Confidentiality", "to_follow": None},
            {
                "field": "approximate_records",
                "heading": "Approximate number of records",
                "text": None,
                "to_follow": "Log analysis running.",
            },
        ],
        "body": "…",
        "delay_reasons": None,
        "previous_notice_id": None,
        "status": status,
        "late": False,
        "created_at": NOW.isoformat(),
        "sent_at": NOW.isoformat() if status == "sent" else None,
        "sent_by": "user:dpo@demo.example" if status == "sent" else None,
        "deliveries": [],
    } | changes


def a_task(state: str = "failed", **changes: Any) -> dict[str, Any]:
    """A store's task of the request; ``failed`` is a task closed with the outcome ``failed``, as the DSAR service
    shows one."""
    failed = state == "failed"
    return {
        "id": TASK_ID,
        "request_id": changes.pop("request_id", "5f0c2b7a-8e1d-4c3b-a2f9-1e0d9c8b7a6f"),
        "system": "crm",
        "action": "erase",
        "state": "closed" if failed else state,
        "outcome": "failed" if failed else None,
        "attempt": 1,
        "due_at": (NOW + timedelta(days=3)).isoformat(),
        "published_at": NOW.isoformat(),
        "acknowledged_at": None,
        "escalated_at": None,
        "records_affected": 0,
        "exemption": None,
        "detail": None,
        "error": "timeout" if state == "failed" else None,
        "recipients": [],
        "exported_records": None,
        "closed_at": NOW.isoformat() if failed else None,
        "manual": False,
        "closed_by": None,
    } | changes


def problem(status: int, detail: str) -> httpx.Response:
    return httpx.Response(status, json={"title": "Refused", "status": status, "detail": detail})


@dataclass
class Console(Services):
    """Every service the console calls."""

    deny: bool = False
    incidents: dict[str, dict[str, Any]] = field(default_factory=lambda: {INCIDENT_ID: an_incident()})
    notices: list[dict[str, Any]] = field(default_factory=list)
    assessments: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    holds: list[dict[str, Any]] = field(default_factory=list)
    sweeps: list[dict[str, Any]] = field(default_factory=list)
    imports: dict[str, dict[str, Any]] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    statuses: list[str] = field(default_factory=list)
    chain_broken: bool = False
    audit_entries: int = 1  # how many entries each service's log holds (ids 1..n)

    def handle(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        self.params = dict(request.url.params)
        self.statuses = request.url.params.get_list("status")
        if self.deny and host in ("dsar.test", "breach.test", "retention.test", "subprocessor.test", "consent.test"):
            self.calls.append((request.method, str(request.url), dict(request.headers), None))
            return problem(403, "The token lacks the scope.")
        if request.url.path.startswith("/v1/audit"):
            self.calls.append((request.method, str(request.url), dict(request.headers), None))
            return self._audit(host.split(".")[0], request.url.path, request.url.params)
        if host in ("breach.test", "retention.test") or (host == "subprocessor.test" and "/v1/" in request.url.path):
            super().handle(request)  # records the call; 404 for these hosts
            _, _, _, body = self.calls[-1]
            answer: httpx.Response = getattr(self, "_" + host.split(".")[0])(request.method, request.url.path, body)
            return answer
        if host == "consent.test" and request.url.path.startswith("/v1/imports"):
            self.calls.append((request.method, str(request.url), dict(request.headers), request.content.decode()))
            return self._imports(request.method, request.url.path)
        return super().handle(request)

    def _consent(self, method: str, path: str, body: Any) -> httpx.Response:
        if path.startswith("/v1/purposes/") and path.endswith("/notices") and "newsletter" not in path:
            return httpx.Response(200, json=[])
        return super()._consent(method, path, body)

    def _dsar(self, method: str, path: str, body: Any) -> httpx.Response:
        parts = path.split("/")
        if path.startswith("/v1/tasks/") and method == "POST":
            return httpx.Response(200, json=a_task("open" if parts[-1] == "retry" else "done"))
        found = self.requests.get(parts[3]) if len(parts) > 3 else None
        rest = "/".join(parts[4:])
        if found is not None and rest == "extension":
            if found["deadline"]["extended_by"]:
                return problem(409, "The deadline was extended already.")
            found["deadline"] |= {"extended_by": "P2M", "extension_reasons": body["reasons"]}
            return httpx.Response(200, json=found)
        if found is not None and rest == "refusal":
            found["state"] = "refused"
            found["refusal"] = {"grounds": body["grounds"], "reasons": body["reasons"], "complaint": {}}
            return httpx.Response(200, json=found)
        if found is not None and rest == "verification/code":
            return httpx.Response(200, json=found)
        return super()._dsar(method, path, body)

    def _breach(self, method: str, path: str, body: Any) -> httpx.Response:
        parts = path.strip("/").split("/")  # v1, incidents|notices, id, rest…
        if path == "/v1/incidents" and method == "GET":  # newest awareness first, a page of it, as the service
            statuses = self.statuses
            rows = [i for i in self.incidents.values() if not statuses or i["status"] in statuses]
            rows.sort(key=lambda i: i["aware_at"], reverse=True)
            if self.params.get("order") == "clock":  # the soonest open clock first, none running last
                rows.sort(key=first_clock)
            offset, limit = int(self.params.get("offset", 0)), int(self.params.get("limit", 100))
            return httpx.Response(200, json=rows[offset : offset + limit])
        if path == "/v1/notices" and method == "GET":
            statuses = self.statuses
            return httpx.Response(200, json=[n for n in self.notices if not statuses or n["status"] in statuses])
        if path == "/v1/incidents" and method == "POST":
            created = an_incident(
                id=str(uuid.uuid4()),
                reference="BR-2026-2",
                **{k: body[k] for k in ("title", "description", "aware_at", "nature", "jurisdictions")},
            )
            self.incidents[created["id"]] = created
            return httpx.Response(201, json=created)
        if parts[1] == "notices" and parts[-1] == "send":
            notice = next(n for n in self.notices if n["id"] == parts[2])
            notice |= {"status": "sent", "sent_at": NOW.isoformat(), "sent_by": "user:dpo@demo.example"}
            return httpx.Response(200, json=notice)
        incident = self.incidents.get(parts[2])
        if incident is None:
            return problem(404, "No such incident.")
        rest = "/".join(parts[3:])
        if rest == "":
            return httpx.Response(200, json=incident)
        if rest == "timeline":
            return httpx.Response(
                200, json=[{"at": NOW.isoformat(), "actor": "user:dpo", "kind": "reported", "detail": {}}]
            )
        if rest == "assessments" and method == "GET":
            return httpx.Response(200, json=self.assessments)
        if rest == "assessments":
            scored = {
                "id": str(uuid.uuid4()),
                "basis": "enisa",
                "inputs": body,
                "dpc": 1,
                "ei": 1.0,
                "cb": 0.5,
                "score": 1.5,
                "severity_level": "medium",
                "risk": "risk",
            }
            self.assessments.append(scored)
            incident |= {"status": "assessed", "risk": "risk", "notify_authority": True, "notify_individuals": False}
            return httpx.Response(201, json=scored)
        if rest == "notices" and method == "GET":
            return httpx.Response(200, json=[n for n in self.notices if n["incident_id"] == incident["id"]])
        if rest == "notices":
            drafted = a_notice(kind=body["kind"], stage=body["stage"], incident_id=incident["id"])
            self.notices.append(drafted)
            return httpx.Response(201, json=drafted)
        return problem(404, "no such breach route")

    def _subprocessor(self, method: str, path: str, body: Any) -> httpx.Response:
        sub = {
            "id": SUB_ID,
            "name": "Mailer",
            "legal_entity": "Mailer GmbH",
            "service": "email delivery",
            "locations": [{"country": "DE"}],
            "dpa_signed_on": "2026-01-02",
            "status": "active",
        }
        if path == "/v1/subprocessors":
            others = [
                sub | {"id": "0c0c0c0c-0000-4000-8000-00000000000a", "name": "Relay", "status": "proposed"},
                sub | {"id": "0c0c0c0c-0000-4000-8000-00000000000b", "name": "Old Post", "status": "retired"},
            ]
            return httpx.Response(200, json=[sub, *others])
        if path == "/v1/demands":
            return httpx.Response(200, json=[])
        if path == f"/v1/customers/{CUSTOMER_ID}":
            return httpx.Response(200, json={"id": CUSTOMER_ID, "name": "Acme Corp"})
        if path == "/v1/changes" and method == "GET":
            return httpx.Response(200, json=self.changes)
        if path == "/v1/changes":
            proposed = {
                "id": CHANGE_ID,
                "kind": body["kind"],
                "subprocessor_id": body["subprocessor_id"],
                "summary": body["summary"],
                "state": "noticed",
                "effective_at": body["effective_at"],
                "affected_customer_ids": [CUSTOMER_ID],
                "notices": [],
                "objections": [],
                "blocking_reasons": [],
                "closed_at": None,
            }
            self.changes.append(proposed)
            return httpx.Response(201, json=proposed)
        change: dict[str, Any] | None = next(
            (c for c in self.changes if path.startswith(f"/v1/changes/{c['id']}")), None
        )
        if change is None:
            return problem(404, "No such change.")
        if path.endswith("/objections"):
            objection = {
                "id": str(uuid.uuid4()),
                "customer_id": body["customer_id"],
                "reason": body["reason"],
                "raised_at": NOW.isoformat(),
                "raised_via": "api",
                "resolution": None,
                "resolved_at": None,
                "resolution_note": None,
            }
            change["objections"].append(objection)
            return httpx.Response(201, json=objection)
        if path.endswith("/resolution"):
            objection = next(o for o in change["objections"] if o["id"] == path.split("/")[5])
            objection |= {
                "resolution": body["resolution"],
                "resolved_at": NOW.isoformat(),
                "resolution_note": body["note"],
            }
            return httpx.Response(200, json=objection)
        return httpx.Response(200, json=change)

    def _retention(self, method: str, path: str, body: Any) -> httpx.Response:
        if path == "/v1/policies":
            return httpx.Response(
                200,
                json=[
                    {
                        "category": "prospect",
                        "system": None,
                        "purpose": None,
                        "period": "P3Y",
                        "clock_start": "last_contact",
                        "action": "delete",
                        "archive_period": None,
                        "legal_reference": "CNIL",
                        "version": 1,
                        "source": "default-pack",
                    }
                ],
            )
        if path == "/v1/policies/default-pack":
            return httpx.Response(201, json={"installed": [], "kept": []})
        if path == "/v1/holds" and method == "POST":
            hold = {
                "id": HOLD_ID,
                "reason": body["reason"],
                "placed_by": "user:dpo",
                "placed_at": NOW.isoformat(),
                "released_at": None,
                "released_by": None,
                "release_reason": None,
                "subject_ref": None,
                "category": None,
                "system": None,
                "matter": None,
            } | body
            self.holds.append(hold)
            return httpx.Response(201, json=hold)
        if path == "/v1/holds":
            return httpx.Response(200, json=self.holds)
        if path.endswith("/release"):
            self.holds[0] |= {"released_at": NOW.isoformat(), "release_reason": body["reason"]}
            return httpx.Response(200, json=self.holds[0])
        if path == "/v1/schedules":
            return httpx.Response(200, json=[])
        if path == "/v1/sweeps":  # as the service: ``status`` keeps the sweeps in that state
            status = self.params.get("status")
            return httpx.Response(200, json=[s for s in self.sweeps if not status or s["status"] == status])
        if path == "/v1/sweeps/run":
            return httpx.Response(201, json=[])
        return problem(404, "no such retention route")

    def _imports(self, method: str, path: str) -> httpx.Response:
        job = self.imports.setdefault(
            IMPORT_ID,
            {
                "id": IMPORT_ID,
                "format": "csv",
                "source_name": "crm.csv",
                "status": "open",
                "rows_done": 0,
                "accepted": 0,
                "rejected": 0,
                "created_at": NOW.isoformat(),
                "updated_at": NOW.isoformat(),
                "completed_at": None,
            },
        )
        if path.endswith("/rows"):
            job |= {"rows_done": 2, "accepted": 1, "rejected": 1}
        if path.endswith("/rejections"):  # as the service: by line, after ``after``, ``limit`` at most
            after, limit = int(self.params.get("after", 0)), int(self.params.get("limit", 1000))
            lines = [n for n in range(2, 2 + job["rejected"]) if n > after][:limit]
            return httpx.Response(
                200, json=[{"line": n, "field": "purpose", "error": "unknown purpose"} for n in lines]
            )
        if path.endswith("/complete"):
            job["status"] = "completed"
        return httpx.Response(201 if path == "/v1/imports" else 200, json=job)

    def _audit(self, service: str, path: str, params: httpx.QueryParams) -> httpx.Response:
        if path.endswith("/verification"):
            problems = ["seq 2: content does not match its hash (edited)"] if self.chain_broken else []
            return httpx.Response(
                200,
                json={
                    "ok": not problems,
                    "checked": 41,
                    "unsealed": 1,
                    "problems": problems,
                    "verified_at": NOW.isoformat(),
                },
            )
        entry = {
            "seq": 6,
            "occurred_at": NOW.isoformat(),
            "actor": "user:dpo@demo.example",
            "action": f"{service}.request.extended",
            "entity_type": "request",
            "entity_id": "5f0c2b7a-8e1d-4c3b-a2f9-1e0d9c8b7a6f",
            "detail": {"by": "P2M"},
            "hash": "ab" * 32,
        }
        # As the service: newest first, older than ``before``, ``limit`` at most.
        before, limit = int(params.get("before", self.audit_entries + 1)), int(params.get("limit", 100))
        ids = [i for i in range(self.audit_entries, 0, -1) if i < before][:limit]
        return httpx.Response(200, json=[entry | {"id": i} for i in ids])
