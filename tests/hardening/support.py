"""Shared helpers of the hardening suites: services on fresh databases, the route table, tokens, problems, reports."""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from shared.rules.clock import ManualClock
from shared.runtime.auth import admin_scopes, issue_token
from tests.support.stack import JWT_SECRET, Infra, RunningService, run_service

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
TENANT_A, TENANT_B = "acme", "globex"
# Every scope a tenant's token can carry: each service's admin (identity's too), the DSAR store scope, notify's
# claim scope and identity's signing scope (never platform:admin, which acts across tenants by design).
ALL_SCOPES = (*admin_scopes(), "identity:admin", "identity:sign", "dsar:task", "dsar:notify", "notify:claim")
# Routes that are not part of the API (operations, documentation).
OPERATIONS = frozenset({"/healthz", "/readyz", "/metrics", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"})
PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")
REPORTS = Path(os.environ.get("PRIVOPS_REPORT_DIR", ".privops/reports"))


@dataclass(frozen=True)
class Route:
    """One operation of a service's route table, as its OpenAPI document describes it."""

    method: str
    path: str
    operation: dict[str, Any]

    @property
    def params(self) -> list[str]:
        """The path parameters' names, in order."""
        return PARAM.findall(self.path)

    @property
    def secured(self) -> bool:
        """True when the operation requires the bearer scheme (public-by-design routes don't)."""
        return any("HTTPBearer" in requirement for requirement in self.operation.get("security", []))

    @property
    def label(self) -> str:
        """``METHOD /path``."""
        return f"{self.method} {self.path}"

    def url(self, ids: dict[str, str]) -> str:
        """The path with its parameters filled from ``ids``."""
        return PARAM.sub(lambda m: ids[m.group(1)], self.path)


def routes(app: FastAPI) -> list[Route]:
    """Every API operation of ``app`` (operations endpoints and docs excluded), from its OpenAPI document."""
    found = []
    for path, item in app.openapi()["paths"].items():
        if path in OPERATIONS:
            continue
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                found.append(Route(method.upper(), path, operation))
    return found


def schema_example(app: FastAPI, route: Route) -> Any:
    """The first example of the operation's JSON request body schema, if it documents one."""
    body = route.operation.get("requestBody")
    if not body:
        return None
    content = body.get("content", {}).get("application/json")
    if not content:
        return None
    schema = content.get("schema", {})
    ref = schema.get("$ref")
    if ref:
        schema = app.openapi()["components"]["schemas"][ref.rsplit("/", 1)[1]]
    examples = schema.get("examples") or ([schema["example"]] if "example" in schema else [])
    return examples[0] if examples else None


def bearer(
    tenant: str, *scopes: str, secret: str = JWT_SECRET, subject: str = "privops-cli", **kw: Any
) -> dict[str, str]:
    """An Authorization header for ``tenant`` with ``scopes``, signed with ``secret``."""
    now = kw.pop("now", datetime.now(UTC))
    return {"Authorization": f"Bearer {issue_token(secret, tenant, scopes, now=now, subject=subject, **kw)}"}


def expired(tenant: str, *scopes: str, subject: str = "privops-cli") -> dict[str, str]:
    """A correctly signed token that expired a day ago."""
    return bearer(tenant, *scopes, subject=subject, now=datetime.now(UTC) - timedelta(days=2), ttl=timedelta(hours=1))


def problem_errors(response: Any) -> list[str]:
    """What makes ``response`` not an RFC 9457 problem+json document (empty when it is one)."""
    errors = []
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        errors.append(f"content-type is {response.headers.get('content-type')!r}")
    try:
        body = response.json()
    except ValueError:
        return [*errors, f"body is not JSON: {response.text[:200]!r}"]
    if not isinstance(body, dict):
        return [*errors, f"body is not an object: {body!r:.200}"]
    for name, kind in (("type", str), ("title", str), ("status", int), ("detail", str)):
        if not isinstance(body.get(name), kind):
            errors.append(f"member {name!r} missing or not a {kind.__name__}")
    if body.get("status") != response.status_code:
        errors.append(f"member 'status' {body.get('status')!r} differs from the HTTP status {response.status_code}")
    return errors


@contextlib.asynccontextmanager
async def service(
    infra: Infra, name: str, topic_prefix: str, tmp_path: Path, **overrides: Any
) -> AsyncIterator[RunningService]:
    """``name`` in-process on a fresh database, periodic jobs run only by the test, a manual clock at START."""
    extra: dict[str, Any] = {"jobs_enabled": False}
    if name == "dsar":
        extra |= {"mailbox_dir": str(tmp_path / "mailbox"), "public_url": "http://127.0.0.1:9"}
    settings = infra.settings(name, infra.fresh_database(name), topic_prefix, **(extra | overrides))
    async with run_service(name, settings, ManualClock(START)) as svc:
        yield svc


def write_report(name: str, data: dict[str, Any]) -> Path:
    """Write a suite's figures as JSON under ``.privops/reports/`` (``PRIVOPS_REPORT_DIR``); return the path."""
    REPORTS.mkdir(parents=True, exist_ok=True)
    path = REPORTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    return path
