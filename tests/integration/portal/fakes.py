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
        "notify_url": "http://notify.test",
        "identity_public_url": "http://identity.test",
        "console_client_secret": "c" * 40,
        "shared_cache_s": 0,  # each test changes what the fakes answer; tests/unit/portal checks the cache
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
    brand_colour: str | None = "#7a1fa2"
    records: list[dict[str, Any]] = field(default_factory=list)
    public_notices: list[dict[str, Any]] | None = None  # None: the consent service has no public notice route
    banner: dict[str, Any] | None = None
    notices: dict[str, dict[str, Any]] = field(default_factory=lambda: {NOTICE_ID: a_notice()})
    list_params: list[httpx.QueryParams] = field(default_factory=list)  # each GET /v1/requests's parameters

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
        if host == "notify.test" and path == "/v1/profile":
            return httpx.Response(200, json={"brand_name": "Démo", "brand_colour": self.brand_colour})
        if host == "consent.test":
            return self._public_consent(request) or self._consent(method, path, body)
        if host == "dsar.test" and path.startswith("/v1/packages/"):
            return package_download(request)
        if host == "subprocessor.test" and path == "/public/demo/subprocessors.atom":
            return httpx.Response(200, text=ATOM, headers={"content-type": "application/atom+xml"})
        if host == "subprocessor.test" and path.startswith("/public/notices/"):
            return self._notice(request, body)
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
            return httpx.Response(200, json=self._request_list(request.url.params))
        if host == "dsar.test" and path == "/v1/tasks" and method == "GET":  # the tasks that need a person
            attention = [t for t in self.tasks if t.get("escalated_at") or t.get("outcome") == "failed"]
            return httpx.Response(200, json=attention)
        if host == "dsar.test":
            return self._dsar(method, path, body)
        return httpx.Response(404, json={"title": "Not Found", "status": 404, "detail": f"no {path}"})

    nonce: str | None = None

    def _public_consent(self, request: httpx.Request) -> httpx.Response | None:
        return public_consent(self, request)

    def _notice(self, request: httpx.Request, body: Any) -> httpx.Response:
        return notice_route(self, request, body)

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
            if body.get("receipt_to") == "no-profile@example.com":
                return httpx.Response(409, json={"status": 409, "detail": "Set the controller profile first."})
            (self.granted.add if body["decision"] == "granted" else self.granted.discard)(body["purpose"])
            record = {"id": str(uuid.uuid4()), "occurred_at": NOW.isoformat(), "notice_version": 2} | body
            record["guardian"] = body.get("guardian")
            self.records.append(record)
            return httpx.Response(201, json={"id": record["id"], "purpose": body["purpose"]})
        if path == "/v1/subjects/history":
            mine = [r for r in self.records if r["subject"] == body["subject"]]
            return httpx.Response(200, json={"subject_ref": "ab" * 32, "status": {}, "records": mine})
        if path.startswith("/v1/consents/") and path.endswith("/receipt"):
            return httpx.Response(200, text=RECEIPT_JWS, headers={"content-type": "application/jwt"})
        if path == "/v1/gpc":
            return httpx.Response(
                200, json={"subject_ref": "ab" * 32, "signal": True, "opted_out": [{"purpose": "targeted_ads"}]}
            )
        return httpx.Response(404, json={"detail": "no such consent route"})

    def _request_list(self, params: httpx.QueryParams) -> list[dict[str, Any]]:
        """``GET /v1/requests`` as the DSAR service answers it: its filters, its orders, a page."""
        rows = list(self.requests.values())
        for name in ("state", "type", "jurisdiction"):
            if wanted := params.get_list(name):
                rows = [r for r in rows if r[name] in wanted]

        def due(r: dict[str, Any]) -> datetime:
            return datetime.fromisoformat(r["deadline"]["due_at"])

        if due_before := params.get("due_before"):
            rows = [r for r in rows if due(r) < datetime.fromisoformat(due_before)]
        order = params.get("order") or ("due" if due_before else "received")
        if order == "received":
            rows.sort(key=lambda r: str(r.get("received_at", "")), reverse=True)
        elif order == "due":
            rows.sort(key=lambda r: (r.get("closed_at") is not None, due(r)))
        else:
            rows.sort(key=lambda r: (r[order], due(r)))
        offset, limit = int(params.get("offset", 0)), int(params.get("limit", 100))
        self.list_params.append(params)
        return rows[offset : offset + limit]

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


NOTICE_ID = "0b6f3c1e-2d4a-4e5f-8a7b-9c0d1e2f3a4b"
NOTICE_TOKEN = "notice-token-" + "n" * 30
PACKAGE_ID = "7d1e2f3a-4b5c-4d6e-8f70-1a2b3c4d5e6f"
PACKAGE_TOKEN = "package-token-" + "p" * 30
EXPIRED_TOKEN = "expired-token-" + "e" * 30
ZIP = b"PK\x03\x04 a zip"
ATOM = '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Demo</title></feed>'
# A compact JWS with an ISO/IEC TS 27560 payload: Démo SAS, Newsletter, consent given (the signature is not checked).
RECEIPT_JWS = (
    "eyJhbGciOiJFZERTQSIsInR5cCI6ImNvbnNlbnQtcmVjZWlwdCtqd3QifQ."
    "eyJyZWNlaXB0X2lkIjoiMTlkYjc3MmUtZTcxZi00NzE3LWI5YmUtYWE1ZjE1NDIwZTQ5IiwiaXNzIjoiaHR0cDovL2lkZW50aXR5LnRlc3Qv"
    "dGVuYW50cy9kZW1vIiwicGFydGllcyI6W3sicGFydHlfbmFtZSI6IkTDqW1vIFNBUyJ9XSwicHVycG9zZXMiOlt7InB1cnBvc2UiOiJOZXdz"
    "bGV0dGVyIiwibGF3ZnVsX2Jhc2lzIjoiY29uc2VudCJ9XSwiZXZlbnRzIjpbeyJldmVudF90aW1lIjoiMjAyNi0wMy0xMFQwOTowMDowMFoi"
    "LCJldmVudF9zdGF0ZSI6ImNvbnNlbnQgZ2l2ZW4ifV0sInByaXZhY3lfbm90aWNlIjp7InZlcnNpb24iOjJ9fQ."
    "c2lnbmF0dXJl"
)


def a_notice(**changes: Any) -> dict[str, Any]:
    """A change notice as the subprocessor service shows it to the holder of its token."""
    return {
        "notice_id": NOTICE_ID,
        "tenant": "demo",
        "customer": "Globex",
        "subprocessor": "MailRelay",
        "replaces": "PostBox",
        "change_kind": "replace",
        "headline": "A subprocessor is replaced",
        "summary": "MailRelay replaces PostBox for transactional email.",
        "effective_at": (NOW + timedelta(days=31)).isoformat(),
        "notice_period_days": 30,
        "objection_allowed": True,
        "objection_deadline": (NOW + timedelta(days=30)).isoformat(),
        "window_open": True,
        "delivered_at": NOW.isoformat(),
        "acknowledged_at": None,
        "objection": None,
    } | changes


def package_download(request: httpx.Request) -> httpx.Response:
    """The DSAR service's package link: what it leads to, or the ZIP, for the right token; 410 expired, 404 else."""
    token = request.url.params.get("token")
    if request.url.path == f"/v1/packages/{PACKAGE_ID}/download" and token == PACKAGE_TOKEN:
        return httpx.Response(200, content=ZIP, headers={"content-type": "application/zip"})
    if request.url.path == f"/v1/packages/{PACKAGE_ID}" and token == PACKAGE_TOKEN:
        about = {
            "id": PACKAGE_ID,
            "request_type": "access",
            "size_bytes": len(ZIP),
            "created_at": NOW.isoformat(),
            "expires_at": (NOW + timedelta(days=7)).isoformat(),
            "downloaded_at": None,
        }
        return httpx.Response(200, json=about)
    if token == EXPIRED_TOKEN:
        return httpx.Response(410, json={"status": 410, "detail": "This download link has expired."})
    return httpx.Response(404, json={"status": 404, "detail": "No such package, or the link is wrong."})


def public_consent(self: Services, request: httpx.Request) -> httpx.Response | None:
    """The consent service's public notice texts and banner, when this fake has them (404 otherwise)."""
    path = request.url.path
    if path == "/v1/public/tenants/demo/notices":
        if self.public_notices is None:
            return httpx.Response(404, json={"status": 404, "detail": "Not Found"})
        return httpx.Response(200, json=self.public_notices)
    if path == "/v1/public/tenants/demo/banner":
        if self.banner is None:
            return httpx.Response(404, json={"status": 404, "detail": "Not Found"})
        return httpx.Response(200, json=self.banner)
    return None


def notice_route(self: Services, request: httpx.Request, body: Any) -> httpx.Response:
    """The subprocessor service's public notice routes (the X-Notice-Token header is the credential)."""
    parts = request.url.path.split("/")
    found = self.notices.get(parts[3])
    if not request.headers.get("x-notice-token"):
        return httpx.Response(401, json={"status": 401, "detail": "Answering a notice needs the X-Notice-Token."})
    if found is None or request.headers["x-notice-token"] != NOTICE_TOKEN:
        return httpx.Response(404, json={"status": 404, "detail": "No notice for this token."})
    answer = parts[4] if len(parts) > 4 else ""
    if request.method == "GET" and not answer:
        return httpx.Response(200, json=found)
    if answer == "acknowledgement":
        found["acknowledged_at"] = NOW.isoformat()
        return httpx.Response(200, json={"notice_id": found["notice_id"], "acknowledged_at": NOW.isoformat()})
    if answer == "objection":
        if not found["window_open"]:
            return httpx.Response(
                422, json={"status": 422, "detail": "The objection window closed.", "rule": "ObjectionWindowClosed"}
            )
        found["objection"] = {"reason": body["reason"], "raised_at": NOW.isoformat(), "resolution": None}
        return httpx.Response(201, json=found["objection"])
    return httpx.Response(404, json={"status": 404, "detail": "no such notice route"})
