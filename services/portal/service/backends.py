"""The other services, through their public HTTP APIs only.

The privacy center calls them with the portal's own service token for the tenant of the page
(``shared.runtime.tokens``: client credentials at the identity service); the console calls them
with the signed-in person's access token, so every service checks that person's own scopes.
"""

from __future__ import annotations

import asyncio
import copy
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from httpx_aiohttp import AiohttpTransport

from services.portal.settings import PortalSettings
from shared.runtime.tokens import TokenRequestFailed, service_tokens

T = TypeVar("T")

# What the privacy center does for people, and nothing more (the portal's client holds these).
CENTER_SCOPES = ("dsar:write", "consent:write")
BACKEND_CONNECTIONS = 100  # open connections to the services, all of them kept between calls


class BackendError(Exception):
    """A service answered with an error (its RFC 9457 problem) or could not be reached (status 503)."""

    def __init__(self, status: int, detail: str, problem: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.problem = problem or {}


def error_of(response: httpx.Response) -> BackendError:
    """The error of a service's answer (its RFC 9457 problem's detail, else the reason phrase)."""
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    detail = problem.get("detail") if isinstance(problem, dict) else None
    return BackendError(response.status_code, str(detail or response.reason_phrase), problem)


class Backends:
    """One shared HTTP client to the services, and the portal's tokens."""

    def __init__(self, settings: PortalSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        # httpx's own transport (httpcore) scans every pooled connection, polling each socket, for every call it
        # starts and every answer it closes: with ten people on console pages (eighty calls at once) that was most
        # of the portal's CPU. aiohttp's pool keeps the same connections for a fraction of it; httpx stays the API
        # (and tests give their own transport).
        limits = httpx.Limits(max_connections=BACKEND_CONNECTIONS, max_keepalive_connections=BACKEND_CONNECTIONS)
        self.http = httpx.AsyncClient(
            timeout=settings.backend_timeout_s, transport=transport or AiohttpTransport(limits=limits)
        )
        self._shared: dict[str, tuple[float, Any]] = {}
        self._loading: dict[str, asyncio.Task[Any]] = {}
        self.monotonic = time.monotonic  # the shared answers' clock

    async def shared(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        """``load()``'s answer, kept ``shared_cache_s`` for every visitor: what a tenant shows alike to all of them.

        A privacy-center page would otherwise ask two to four services for the same brand and texts each time.
        Never for what is a person's own (their decisions, their requests): those are asked on every page.
        One load runs at a time per key (visitors arriving together wait for the same answer), and once the time
        is up the answer kept is still shown, for at most as long again, while one load renews it: no visitor
        waits for the renewal, and never do all of them ask the services at the same instant.
        """
        ttl = self.settings.shared_cache_s
        if ttl <= 0:
            return await load()
        now = self.monotonic()
        kept = self._shared.get(key)
        if kept is not None and now < kept[0] + ttl:
            if now >= kept[0] and key not in self._loading:
                self._renew(key, load, ttl)
            return copy.deepcopy(kept[1])  # type: ignore[no-any-return]
        loading = self._loading.get(key) or self._renew(key, load, ttl)
        return copy.deepcopy(await asyncio.shield(loading))  # type: ignore[no-any-return]

    def _renew(self, key: str, load: Callable[[], Awaitable[Any]], ttl: float) -> asyncio.Task[Any]:
        async def renew() -> Any:
            try:
                value = await load()
                if len(self._shared) > 10_000:  # a few keys per tenant: bounded in practice
                    self._shared.clear()
                self._shared[key] = (self.monotonic() + ttl, copy.deepcopy(value))
                return value
            finally:
                self._loading.pop(key, None)

        task = asyncio.create_task(renew(), name=f"portal.shared.{key}")
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # a failed renewal: the next visitor retries
        self._loading[key] = task
        return task

    async def _center_token(self, tenant: str) -> str:
        try:
            return await service_tokens(self.settings).token(tenant, CENTER_SCOPES)
        except TokenRequestFailed as exc:
            raise BackendError(503, "The service is not available right now; please try again later.") from exc

    async def call(
        self, method: str, url: str, *, token: str | None = None, headers: dict[str, str] | None = None, **kw: Any
    ) -> Any:
        """The JSON answer of one call (raises ``BackendError``)."""
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        try:
            response = await self.http.request(method, url, headers=sent, **kw)
        except httpx.HTTPError as exc:
            raise BackendError(503, "The service is not available right now; please try again later.") from exc
        if response.status_code >= 400:
            raise error_of(response)
        return response.json() if response.content else None

    # --- the privacy center: the portal's own client, for the page's tenant -------------------------------

    async def center(self, method: str, base: str, path: str, tenant: str, **kw: Any) -> Any:
        """A call to ``base`` + ``path`` as the portal, for ``tenant``."""
        return await self.call(method, base + path, token=await self._center_token(tenant), **kw)

    async def tenant_name(self, tenant: str) -> str:
        """The controller's name the tenant publishes on its receipts, else the tenant id."""
        try:
            profile = await self.center("GET", self.settings.consent_url, "/v1/controller", tenant)
        except BackendError:
            return tenant
        return str(profile.get("name") or tenant)

    async def purposes(self, tenant: str) -> list[dict[str, Any]]:
        """The tenant's purposes, each with its notice in force (``notice``: text, version, url or None)."""
        purposes: list[dict[str, Any]] = await self.center("GET", self.settings.consent_url, "/v1/purposes", tenant)

        async def notice(purpose: dict[str, Any]) -> None:
            purpose["notice"] = None
            if purpose.get("current_notice_version"):
                path = f"/v1/purposes/{purpose['key']}/notices"
                versions = await self.center("GET", self.settings.consent_url, path, tenant)
                current = [v for v in versions if v.get("version") == purpose["current_notice_version"]]
                purpose["notice"] = current[0] if current else None

        await asyncio.gather(*(notice(p) for p in purposes))
        return purposes

    async def decisions(self, tenant: str, subject: dict[str, str], purposes: list[str]) -> dict[str, dict[str, Any]]:
        """Purpose → the current answer for ``subject`` (an identifier: ``{"kind": …, "value": …}``)."""
        if not purposes:
            return {}
        body = {"subject": subject, "purposes": purposes}
        answer = await self.center("POST", self.settings.consent_url, "/v1/checks", tenant, json=body)
        return {r["purpose"]: r for r in answer["results"]}

    async def record_consent(
        self, tenant: str, subject: dict[str, str], purpose: str, decision: str, proof: dict[str, str]
    ) -> dict[str, Any]:
        """Record a grant or a withdrawal for ``subject`` (the notice version in force)."""
        body = {
            "subject": subject,
            "purpose": purpose,
            "decision": decision,
            "channel": "web",
            "collector": "privacy-center",
            "proof": proof,
        }
        result: dict[str, Any] = await self.center("POST", self.settings.consent_url, "/v1/consents", tenant, json=body)
        return result

    async def honour_gpc(self, tenant: str, subject: dict[str, str], proof: dict[str, str]) -> list[str]:
        """Record the browser's Global Privacy Control signal for ``subject``: the purposes opted out."""
        body = {"subject": subject, "channel": "web", "collector": "privacy-center"}
        answer = await self.center(
            "POST", self.settings.consent_url, "/v1/gpc", tenant, json=body | {"proof": proof}, headers={"Sec-GPC": "1"}
        )
        return [r["purpose"] for r in answer.get("opted_out", [])]

    async def file_request(self, tenant: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        """Open a rights request (the DSAR service mails the one-time code)."""
        headers = {"Idempotency-Key": key}
        result: dict[str, Any] = await self.center(
            "POST", self.settings.dsar_url, "/v1/requests", tenant, json=body, headers=headers
        )
        return result

    async def read_request(self, tenant: str, request_id: uuid.UUID) -> dict[str, Any]:
        """A request as the DSAR service shows it (never its identifiers)."""
        result: dict[str, Any] = await self.center("GET", self.settings.dsar_url, f"/v1/requests/{request_id}", tenant)
        return result

    async def confirm_code(self, tenant: str, request_id: uuid.UUID, code: str) -> dict[str, Any]:
        """Confirm the emailed one-time code."""
        path = f"/v1/requests/{request_id}/verification/confirm"
        result: dict[str, Any] = await self.center("POST", self.settings.dsar_url, path, tenant, json={"code": code})
        return result

    async def subprocessors(self, tenant: str) -> dict[str, Any]:
        """The tenant's published subprocessor list (public, the same for every visitor: kept as shared answers are)."""
        url = f"{self.settings.subprocessor_url}/public/{tenant}/subprocessors.json"
        result: dict[str, Any] = await self.shared(f"subprocessors:{tenant}", lambda: self.call("GET", url))
        return result

    def feed_url(self, tenant: str) -> str:
        """The Atom feed of the tenant's subprocessor changes."""
        return f"{self.settings.subprocessor_url}/public/{tenant}/subprocessors.atom"

    # --- the console: the signed-in person's own token ------------------------------------------------

    async def as_person(self, token: str, method: str, path: str, *, service: str = "dsar", **kw: Any) -> Any:
        """A call to ``service`` (dsar, consent, breach, retention, subprocessor, identity) as the person."""
        return await self.call(method, self.base_url(service) + path, token=token, **kw)

    async def download(self, token: str, method: str, path: str, *, service: str, **kw: Any) -> httpx.Response:
        """An answer to stream through to the browser (a file), still open: the caller closes it (``aclose``)."""
        sent = self.http.build_request(
            method, self.base_url(service) + path, headers={"Authorization": f"Bearer {token}"}, **kw
        )
        try:
            response = await self.http.send(sent, stream=True)
        except httpx.HTTPError as exc:
            raise BackendError(503, "The service is not available right now; please try again later.") from exc
        if response.status_code >= 400:
            await response.aread()
            await response.aclose()
            raise error_of(response)
        return response

    def base_url(self, service: str) -> str:
        """The base URL of one of the services the console calls."""
        urls = {
            "dsar": self.settings.dsar_url,
            "consent": self.settings.consent_url,
            "breach": self.settings.breach_url,
            "retention": self.settings.retention_url,
            "subprocessor": self.settings.subprocessor_url,
            "identity": self.settings.identity_url or self.settings.identity_public_url or "",
        }
        return urls[service].rstrip("/")
