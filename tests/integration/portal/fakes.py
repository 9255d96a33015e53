"""The services behind the portal, faked at the HTTP level: what each API answers, and what it was sent."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt

from services.portal.settings import PortalSettings

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
SECRET = "portal-tests-" + "s" * 40
REQUEST_ID = uuid.UUID("5f0c2b7a-8e1d-4c3b-a2f9-1e0d9c8b7a6f")


def settings(**changes: Any) -> PortalSettings:
    """Portal settings for page tests: HS256 development tokens, services at .test addresses."""
    values: dict[str, Any] = {
        "database_url": "postgresql+asyncpg://portal:portal@127.0.0.1:1/portal",
        "kafka_bootstrap_servers": "127.0.0.1:1",
        "jwt_secret": SECRET,
        "subject_hash_key": "k" * 40,
        "signing_key": "g" * 40,
        "environment": "test",
        "public_url": "http://portal.test",
        "dsar_url": "http://dsar.test",
        "consent_url": "http://consent.test",
        "subprocessor_url": "http://subprocessor.test",
        "breach_url": "http://breach.test",
        "retention_url": "http://retention.test",
        "identity_public_url": "http://identity.test",
        "console_client_secret": "c" * 40,
    }
    return PortalSettings(**(values | changes))


def a_request(state: str = "awaiting_verification", due_days: int = 20, **changes: Any) -> dict[str, Any]:
    """A request as the DSAR service shows it."""
    due = (NOW + timedelta(days=due_days)).isoformat()
    return {
        "id": str(changes.pop("id", REQUEST_ID)),
        "type": "erasure",
        "state": state,
        "jurisdiction": "eu-gdpr",
        "channel": "web",
        "locale": None,
        "subject_ref": "ab" * 32,
        "identifier_kinds": ["email"],
        "authorised_agent": None,
        "details": {},
        "received_at": NOW.isoformat(),
        "entered_at": NOW.isoformat(),
        "entered_by": "service:portal",
        "deadline": {
            "due_at": due,
            "initial_due_at": due,
            "acknowledge_by": None,
            "acknowledged_at": None,
            "basis": "one month from receipt (GDPR Art. 12(3))",
            "calendar": "FR",
            "extended_by": None,
            "extension_reasons": None,
            "paused": False,
            "paused_since": None,
            "status": "open",
        },
        "repetition": {},
        "verification": {
            "method": "email_code",
            "status": "pending",
            "attempts_left": 5,
            "code_expires_at": None,
            "verified_at": None,
            "evidence_ref": None,
        },
        "refusal": None,
        "outcome": None,
        "closed_at": None,
        "certificate_id": None,
        "package_id": None,
        "identifiers_purged": False,
    } | changes


PURPOSES: list[dict[str, Any]] = [
    {
        "key": "newsletter",
        "name": "Newsletter",
        "description": "Monthly news",
        "lawful_basis": "consent",
        "current_notice_version": 2,
        "gpc_covered": False,
    },
    {
        "key": "targeted_ads",
        "name": "Targeted advertising",
        "description": "Ads",
        "lawful_basis": "consent",
        "current_notice_version": None,
        "gpc_covered": True,
    },
]


@dataclass
class Services:
    """The fake services: their state, and every call made to them."""

    requests: dict[str, dict[str, Any]] = field(default_factory=lambda: {str(REQUEST_ID): a_request()})
    tasks: list[dict[str, Any]] = field(default_factory=list)
    granted: set[str] = field(default_factory=set)
    calls: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)
    person_scopes: str = "dsar:admin consent:admin"

    def sent(self, method: str, url_part: str) -> list[tuple[dict[str, str], Any]]:
        """The headers and bodies of the calls ``method`` to a URL containing ``url_part``."""
        return [(h, b) for m, u, h, b in self.calls if m == method and url_part in u]

    def handle(self, request: httpx.Request) -> httpx.Response:
        body: Any = None
        if request.content:
            raw = request.content.decode()
            body = json.loads(raw) if raw.startswith(("{", "[")) else raw
        self.calls.append((request.method, str(request.url), dict(request.headers), body))
        host, path, method = request.url.host, request.url.path, request.method
        if host == "identity.test" and path == "/oauth/token":
            claims = {
                "sub": "user:dpo@demo.example",
                "tenant": "demo",
                "scope": self.person_scopes,
                "exp": int(datetime.now(UTC).timestamp()) + 600,
            }
            access = jwt.encode(claims, "x" * 32, algorithm="HS256")
            id_token = jwt.encode({"email": "dpo@demo.example", "nonce": self.nonce}, "x" * 32)
            return httpx.Response(200, json={"access_token": access, "id_token": id_token, "token_type": "Bearer"})
        if host == "consent.test":
            return self._consent(method, path, body)
        if host == "subprocessor.test" and path == "/public/demo/subprocessors.json":
            return httpx.Response(
                200,
                json={
                    "tenant": "demo",
                    "updated_at": NOW.isoformat(),
                    "subprocessors": [
                        {
                            "name": "Mailer",
                            "legal_entity": "Mailer GmbH",
                            "service": "email delivery",
                            "purposes": ["newsletter"],
                            "data_categories": ["contact.email"],
                            "locations": [{"country": "DE"}, {"country": "US", "transfer_mechanism": "scc"}],
                        }
                    ],
                },
            )
        if host == "dsar.test" and path == "/v1/requests" and method == "GET":
            state = request.url.params.get("state")
            return httpx.Response(200, json=[r for r in self.requests.values() if not state or r["state"] == state])
        if host == "dsar.test":
            return self._dsar(method, path, body)
        return httpx.Response(404, json={"title": "Not Found", "status": 404, "detail": f"no {path}"})

    nonce: str | None = None

    def _consent(self, method: str, path: str, body: Any) -> httpx.Response:
        if path == "/v1/controller":
            return httpx.Response(200, json={"name": "Démo SAS"})
        if path == "/v1/purposes":
            return httpx.Response(200, json=[dict(p) for p in PURPOSES])
        if path == "/v1/purposes/newsletter/notices":
            return httpx.Response(200, json=[{"version": 2, "text": "Our news, once a month.", "url": None}])
        if path == "/v1/checks":
            return httpx.Response(
                200,
                json={
                    "subject_ref": "ab" * 32,
                    "at": NOW.isoformat(),
                    "results": [
                        {
                            "purpose": p,
                            "allowed": p in self.granted,
                            "reason": "granted" if p in self.granted else "no_record",
                            "decided_at": None,
                            "expires_at": None,
                            "detail": "",
                        }
                        for p in body["purposes"]
                    ],
                },
            )
        if path == "/v1/consents":
            (self.granted.add if body["decision"] == "granted" else self.granted.discard)(body["purpose"])
            return httpx.Response(201, json={"id": str(uuid.uuid4()), "purpose": body["purpose"]})
        if path == "/v1/gpc":
            return httpx.Response(
                200, json={"subject_ref": "ab" * 32, "signal": True, "opted_out": [{"purpose": "targeted_ads"}]}
            )
        return httpx.Response(404, json={"detail": "no such consent route"})

    def _dsar(self, method: str, path: str, body: Any) -> httpx.Response:
        if path == "/v1/requests" and method == "POST":
            if body["jurisdiction"] == "us-ca-ccpa" and body["type"] == "restriction":
                return httpx.Response(
                    422,
                    json={
                        "title": "Request type not covered by this regime",
                        "status": 422,
                        "detail": "The CCPA gives no right of restriction.",
                    },
                )
            created = a_request(id=uuid.uuid4(), type=body["type"])
            self.requests[created["id"]] = created
            return httpx.Response(201, json=created)
        parts = path.split("/")
        found = self.requests.get(parts[3]) if len(parts) > 3 else None
        if found is None:
            return httpx.Response(404, json={"title": "Not Found", "status": 404, "detail": "No such request."})
        rest = "/".join(parts[4:])
        if rest == "":
            return httpx.Response(200, json=found)
        if rest == "tasks":
            return httpx.Response(200, json=self.tasks)
        if rest == "verification/confirm":
            if body["code"] != "123456":
                return httpx.Response(
                    422, json={"title": "Wrong code", "status": 422, "detail": "The code is wrong: 4 attempts left."}
                )
            found["state"] = "in_progress"
            return httpx.Response(200, json=found)
        if rest == "verification/manual":
            found["state"] = "verified"
            found["verification"] |= {"status": "verified", "method": "manual", "evidence_ref": body["evidence_ref"]}
            return httpx.Response(200, json=found)
        return httpx.Response(404, json={"detail": "no such DSAR route"})
