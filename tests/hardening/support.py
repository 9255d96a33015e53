"""Shared helpers of the hardening suites: services on fresh databases, the route table, tokens, problems, reports."""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import re
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import fastapi.routing
import jwt
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant

from shared.bus.dead_letter_admin import OPERATOR_SCOPE
from shared.rules.clock import ManualClock
from shared.rules.scopes import grants
from shared.runtime.admin import admin_unit_of_work
from shared.runtime.auth import ALGORITHM_HS, ScopeCheck, admin_scopes, issue_token
from tests.support.stack import JWT_SECRET, Infra, RunningService, run_service

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
TENANT_A, TENANT_B = "acme", "globex"
# Every scope a tenant's token can carry: each service's admin (identity's too), the DSAR store scope, notify's
# claim scope and identity's signing scope (never platform:admin, which acts across tenants by design).
ALL_SCOPES = (*admin_scopes(), "identity:admin", "identity:sign", "dsar:task", "dsar:notify", "notify:claim")
# Routes that are not part of the API (operations, documentation).
OPERATIONS = frozenset({"/healthz", "/readyz", "/metrics", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"})
# The token endpoint's error codes: RFC 6749 §5.2, https://www.rfc-editor.org/rfc/rfc6749#section-5.2, and RFC 8707
# §2's invalid_target (a tenant the client may not act for), https://www.rfc-editor.org/rfc/rfc8707#section-2.
OAUTH_ERRORS = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "invalid_target",
    }
)
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


@dataclass(frozen=True)
class Requirement:
    """What one authorization dependency of a route asks for: every scope of ``scopes``, or one (``any_of``)."""

    scopes: tuple[str, ...]
    any_of: bool = False

    def granted_by(self, held: Iterable[str]) -> bool:
        """Whether a token holding ``held`` passes (admin ⊃ write ⊃ read, ``shared.rules.scopes.grants``)."""
        holding = set(held)
        passes = any if self.any_of else all
        return passes(grants(holding, s) for s in self.scopes)

    def __str__(self) -> str:
        return (" or " if self.any_of else " and ").join(self.scopes)


def requirements(app: FastAPI, route: Route) -> list[Requirement]:
    """The scope checks of ``route``'s dependencies (none: any valid token passes), read from the dependency tree.

    ``require``/``require_any`` and ``unit_of_work`` keep their ``ScopeCheck`` in a closure; the dead-letter
    admin API asks for ``<service>:admin`` or ``platform:admin``. A scope checked only inside a handler is not
    visible here: the role matrix then reports the role that got a 403 it was not expected to get.
    """
    found: list[Requirement] = []

    def walk(dependant: Dependant) -> None:
        call = dependant.call
        if call is admin_unit_of_work:
            found.append(Requirement((f"{app.state.settings.service_name}:admin", OPERATOR_SCOPE), any_of=True))
        elif inspect.isfunction(call) and isinstance(
            check := inspect.getclosurevars(call).nonlocals.get("check"), ScopeCheck
        ):
            found.append(Requirement(check.scopes, any_of=check.any_of))
        for sub in dependant.dependencies:
            walk(sub)

    walk(_dependant(app, route))
    return list(dict.fromkeys(found))


def granted(needs: list[Requirement], held: Iterable[str]) -> bool:
    """Whether a token holding ``held`` passes every requirement of a route."""
    holding = set(held)
    return all(r.granted_by(holding) for r in needs)


def _dependant(app: FastAPI, route: Route) -> Dependant:
    # Recent FastAPI keeps included routers as such in app.routes; iter_route_contexts flattens them (older: flat).
    flatten: Any = getattr(fastapi.routing, "iter_route_contexts", iter)
    for candidate in flatten(app.routes):
        path = PARAM.sub(lambda m: "{" + m.group(1) + "}", getattr(candidate, "path", "") or "")
        if path == route.path and route.method in (getattr(candidate, "methods", None) or ()):
            dependant: Dependant = candidate.dependant
            return dependant
    raise LookupError(f"{route.label} is in the OpenAPI document but not in the route table")


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


# Request bodies for operations whose schema documents no usable example (a call that is let through must get past
# validation).
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/v1/incidents/{incident_id}/close"): {"reason": "Contained."},
    ("POST", "/v1/notices/{notice_id}/send"): {},
    ("POST", "/v1/requests/{request_id}/cancel"): {},
    ("POST", "/v1/requests/{request_id}/verification/confirm"): {"code": "123456"},
}
RAW_BODIES: dict[tuple[str, str], bytes] = {
    ("POST", "/v1/imports/{import_id}/rows"): b'{"subject_kind": "email", "subject": "x@example.com"}\n',
}
# Values for required query parameters.
QUERY = {"offset": "0"}


def request_of(app: FastAPI, route: Route, failures: list[str]) -> dict[str, Any]:
    """Query parameters and a body that pass the operation's validation (needed when a call must reach the object
    lookup: routes with path parameters)."""
    params = {}
    for parameter in route.operation.get("parameters", []):
        if parameter["in"] == "query" and parameter.get("required"):
            if parameter["name"] in QUERY:
                params[parameter["name"]] = QUERY[parameter["name"]]
            elif route.params:
                failures.append(f"{route.label}: add a value for query parameter {parameter['name']!r} to QUERY")
    key = (route.method, route.path)
    if key in RAW_BODIES:
        return {"params": params, "content": RAW_BODIES[key]}
    if "requestBody" not in route.operation:
        return {"params": params}
    body = BODIES.get(key, schema_example(app, route))
    if body is None and route.params:
        failures.append(f"{route.label}: document an example of its request body, or add one to BODIES")
    return {"params": params, "json": body if body is not None else {}}


def bearer(
    tenant: str, *scopes: str, secret: str = JWT_SECRET, subject: str = "privops-cli", **kw: Any
) -> dict[str, str]:
    """An Authorization header for ``tenant`` with ``scopes``, signed with ``secret``."""
    now = kw.pop("now", datetime.now(UTC))
    return {"Authorization": f"Bearer {issue_token(secret, tenant, scopes, now=now, subject=subject, **kw)}"}


def signed(tenant: str, scopes: Iterable[str], subject: str, **claims: Any) -> dict[str, str]:
    """An Authorization header with a development-mode token carrying exactly these claims (and the usual times)."""
    now = int(datetime.now(UTC).timestamp())
    body = {"sub": subject, "tenant": tenant, "scope": " ".join(scopes), "iat": now, "nbf": now, "exp": now + 600}
    token = jwt.encode(body | {"jti": uuid.uuid4().hex} | claims, JWT_SECRET, algorithm=ALGORITHM_HS)
    return {"Authorization": f"Bearer {token}"}


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
