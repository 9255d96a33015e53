"""An async HTTP client for product backends: record and read consent, open and follow rights requests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any, Protocol

import httpx

from sdk.store import SystemRegistration


class TokenSource(Protocol):
    """Gives a bearer token for a tenant and scopes."""

    async def token(self, tenant: str, scopes: Iterable[str]) -> str:
        """A bearer token."""
        ...


class PrivopsError(Exception):
    """A privops service answered with an RFC 9457 problem."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{status} {problem.get('title', '')}: {problem.get('detail', '')}")
        self.status = status
        self.problem = problem


Identifiers = Mapping[str, str] | Iterable[tuple[str, str]]


class PrivopsClient:
    """One tenant's client for the consent and DSAR services."""

    def __init__(
        self,
        *,
        tenant: str,
        tokens: TokenSource,
        consent_url: str | None = None,
        dsar_url: str | None = None,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.tenant = tenant
        self.tokens = tokens
        self.urls = {"consent": consent_url, "dsar": dsar_url}
        self.http = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def __aenter__(self) -> PrivopsClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        scope: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """Call ``service`` with a token holding ``scope``; return the JSON body or raise ``PrivopsError``."""
        base = self.urls.get(service)
        if not base:
            raise ValueError(f"no URL configured for the {service} service")
        auth = {"Authorization": f"Bearer {await self.tokens.token(self.tenant, [scope])}"}
        response = await self.http.request(method, base.rstrip("/") + path, json=json, headers=auth | (headers or {}))
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"title": response.reason_phrase, "detail": response.text[:500]}
            raise PrivopsError(response.status_code, problem)
        return response.json() if response.content else None

    # consent ---------------------------------------------------------------------------------

    async def record_consent(
        self, kind: str, value: str, purpose: str, decision: str, *, channel: str | None = None
    ) -> dict[str, Any]:
        """Record a consent decision (granted, denied, withdrawn) for one subject and purpose."""
        body = {"subject": {"kind": kind, "value": value}, "purpose": purpose, "decision": decision}
        if channel:
            body["channel"] = channel
        result: dict[str, Any] = await self.call("consent", "POST", "/v1/consents", "consent:write", json=body)
        return result

    async def get_consent(self, consent_id: str) -> dict[str, Any]:
        """One consent record."""
        result: dict[str, Any] = await self.call("consent", "GET", f"/v1/consents/{consent_id}", "consent:read")
        return result

    # rights requests -------------------------------------------------------------------------

    async def open_request(
        self,
        request_type: str,
        jurisdiction: str,
        identifiers: Identifiers,
        *,
        channel: str | None = "web",
        details: dict[str, Any] | None = None,
        verification: str = "email_code",
        authorised_agent: dict[str, str] | None = None,
        idempotency_key: str | None = None,
        received_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Open a rights request; with ``idempotency_key`` a retry returns the same request.

        ``received_at`` (timezone-aware) is when a request that came by post or phone arrived: its legal
        clock starts that day.
        """
        pairs = identifiers.items() if isinstance(identifiers, Mapping) else identifiers
        body: dict[str, Any] = {
            "type": request_type,
            "jurisdiction": jurisdiction,
            "identifiers": [{"kind": k, "value": v} for k, v in pairs],
            "channel": channel,
            "verification": verification,
            "details": details or {},
        }
        if authorised_agent:
            body["authorised_agent"] = authorised_agent
        if received_at is not None:
            body["received_at"] = received_at.isoformat()
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        result: dict[str, Any] = await self.call(
            "dsar", "POST", "/v1/requests", "dsar:write", json=body, headers=headers
        )
        return result

    async def get_request(self, request_id: str) -> dict[str, Any]:
        """One request with its deadline, verification state and results."""
        result: dict[str, Any] = await self.call("dsar", "GET", f"/v1/requests/{request_id}", "dsar:read")
        return result

    async def confirm_code(self, request_id: str, code: str) -> dict[str, Any]:
        """Relay the one-time code the subject received."""
        path = f"/v1/requests/{request_id}/verification/confirm"
        result: dict[str, Any] = await self.call("dsar", "POST", path, "dsar:write", json={"code": code})
        return result

    async def verify_manually(self, request_id: str, evidence_ref: str, note: str | None = None) -> dict[str, Any]:
        """An operator's identity check with its evidence reference (scope dsar:admin)."""
        path = f"/v1/requests/{request_id}/verification/manual"
        body = {"evidence_ref": evidence_ref, "note": note}
        result: dict[str, Any] = await self.call("dsar", "POST", path, "dsar:admin", json=body)
        return result

    async def request_tasks(self, request_id: str) -> list[dict[str, Any]]:
        """The request's tasks, one per (system × action)."""
        result: list[dict[str, Any]] = await self.call("dsar", "GET", f"/v1/requests/{request_id}/tasks", "dsar:read")
        return result

    async def certificate(self, request_id: str) -> dict[str, Any]:
        """The signed certificate of a completed erasure."""
        path = f"/v1/requests/{request_id}/certificate"
        result: dict[str, Any] = await self.call("dsar", "GET", path, "dsar:read")
        return result

    async def verify_certificate(self, certificate: dict[str, Any], signature: str) -> bool:
        """True when the certificate is authentic and unchanged."""
        body = {"certificate": certificate, "signature": signature}
        result = await self.call("dsar", "POST", "/v1/certificates/verify", "dsar:read", json=body)
        return bool(result["valid"])

    async def package_link(self, request_id: str) -> dict[str, Any]:
        """A fresh download link to an access package (scope dsar:admin)."""
        path = f"/v1/requests/{request_id}/package-link"
        result: dict[str, Any] = await self.call("dsar", "POST", path, "dsar:admin")
        return result

    async def download(self, url: str) -> bytes:
        """The bytes behind a package link (the token in the URL is the credential)."""
        response = await self.http.get(url)
        if response.status_code >= 400:
            raise PrivopsError(response.status_code, response.json())
        return response.content

    async def register_system(self, key: str, registration: SystemRegistration, actions: list[str]) -> dict[str, Any]:
        """Register (or update) a data system in the DSAR registry (a store's own ``dsar:task`` client may)."""
        body = {**asdict(registration), "actions": actions}
        result: dict[str, Any] = await self.call("dsar", "PUT", f"/v1/systems/{key}", "dsar:task", json=body)
        return result
