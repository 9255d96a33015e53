"""Tenant isolation matrix, generated from each service's route table (a new endpoint is covered automatically).

For every operation that requires the bearer scheme: no token, an expired token and a wrongly signed
token are 401; a token of the right tenant without any scope of this service is 403; and for an
operation with path parameters, tenant B's full-admin token against tenant A's real objects is 404,
never 200 and never a 403 that would reveal the object exists. Tenant A's own token gets a 2xx on
the same reads, which proves the ids are real.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from fastapi import FastAPI

from tests.hardening.factories import FACTORIES, SUBJECT
from tests.hardening.support import (
    ALL_SCOPES,
    TENANT_A,
    TENANT_B,
    Route,
    bearer,
    expired,
    problem_errors,
    routes,
    schema_example,
    service,
    write_report,
)
from tests.support.stack import SERVICES, Infra, RunningService

pytestmark = pytest.mark.integration

# Request bodies for operations whose schema documents no usable example (tenant B's call must get past validation).
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
# Upserts keyed by a name the caller chooses: tenant B writes its own object of that name. What tenant A reads
# at the given path must not change.
TENANT_NAMESPACED: dict[tuple[str, str], str] = {
    ("PUT", "/v1/systems/{key}"): "/v1/systems/{key}",  # dsar
    ("PUT", "/v1/systems/{system}"): "/v1/systems",  # retention
    # notify: templates are the platform's; a tenant overrides and previews its own version of one.
    ("PUT", "/v1/templates/{locale}/{file}"): "/v1/templates",
    ("POST", "/v1/templates/{key}/preview"): "/v1/templates",
}


# The routes where the notify service claims a message's address and values: they grant notify:claim.
CLAIM_ROUTES = {
    ("consent", "/v1/notifications/{notification_id}/claim"),
    ("dsar", "/v1/notifications/{notification_id}/claim"),
    ("breach", "/v1/notices/{notice_id}/deliveries/{delivery_id}/claim"),
    ("subprocessor", "/v1/notifications/{notification_id}"),
}


def others(name: str, path: str = "") -> list[str]:
    """Every scope except this service's (and, on a message claim route, notify's claim scope, which it accepts)."""
    claim = (name, path) in CLAIM_ROUTES
    return [s for s in ALL_SCOPES if not s.startswith(f"{name}:") and not (claim and s == "notify:claim")]


def request_of(app: FastAPI, route: Route, failures: list[str]) -> dict[str, Any]:
    """Query parameters and a body that pass the operation's validation (needed when tenant B's call must reach
    the object lookup: routes with path parameters)."""
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


async def check_route(svc: RunningService, route: Route, ids: dict[str, str], failures: list[str]) -> int:
    """Run every case of the matrix for one route; return how many cases ran."""
    missing = [p for p in route.params if p not in ids]
    if missing:
        failures.append(
            f"{route.label}: no fixture for path parameter(s) {missing}; add an object to the "
            f"{svc.name!r} factory in tests/hardening/factories.py"
        )
        return 0
    url = route.url(ids)
    request = request_of(svc.app, route, failures)
    cases: list[tuple[str, dict[str, str], int]] = [
        ("no token", {}, 401),
        ("expired token", expired(TENANT_A, *ALL_SCOPES, subject=SUBJECT), 401),
        ("wrongly signed token", bearer(TENANT_A, *ALL_SCOPES, subject=SUBJECT, secret="not-the-secret-" * 3), 401),
        ("no scope of this service", bearer(TENANT_A, *others(svc.name, route.path), subject=SUBJECT), 403),
    ]
    if route.params and (route.method, route.path) not in TENANT_NAMESPACED:
        cases.append(("tenant B's admin on tenant A's object", bearer(TENANT_B, *ALL_SCOPES, subject=SUBJECT), 404))
    for case, headers, expected in cases:
        response = await svc.client.request(route.method, url, headers=headers, **request)
        if response.status_code != expected:
            failures.append(
                f"{route.label} [{case}]: {response.status_code} (expected {expected}) {response.text[:300]}"
            )
        elif errors := problem_errors(response):
            failures.append(f"{route.label} [{case}]: not a problem document: {errors}")
    if (route.method, route.path) in TENANT_NAMESPACED:
        cases.append(await check_namespaced(svc, route, ids, request, failures))
    elif route.params and route.method == "GET":
        owner = await svc.client.get(url, headers=bearer(TENANT_A, *ALL_SCOPES, subject=SUBJECT), **request)
        if owner.status_code >= 300:
            failures.append(f"{route.label} [tenant A's own read]: {owner.status_code}; the fixture id is not real")
        cases.append(("tenant A's own read", {}, 200))
    return len(cases)


async def check_namespaced(
    svc: RunningService, route: Route, ids: dict[str, str], request: dict[str, Any], failures: list[str]
) -> tuple[str, dict[str, str], int]:
    """Tenant B writing under tenant A's name creates B's own object and leaves A's untouched."""
    a_headers = bearer(TENANT_A, *ALL_SCOPES, subject=SUBJECT)
    watch = TENANT_NAMESPACED[(route.method, route.path)].format(**ids)
    before = (await svc.client.get(watch, headers=a_headers)).json()
    b_response = await svc.client.request(
        route.method, route.url(ids), headers=bearer(TENANT_B, *ALL_SCOPES, subject=SUBJECT), **request
    )
    after = (await svc.client.get(watch, headers=a_headers)).json()
    if b_response.status_code >= 300 or before != after:
        failures.append(f"{route.label} [tenant B's upsert]: {b_response.status_code}; tenant A's object changed")
    return ("tenant B's upsert leaves tenant A's object", {}, b_response.status_code)


@pytest.mark.parametrize("name", SERVICES)
async def test_every_route_isolates_tenants(infra: Infra, topic_prefix: str, tmp_path: Path, name: str) -> None:
    async with service(infra, name, topic_prefix, tmp_path) as svc:
        ids = await FACTORIES[name](svc, TENANT_A)
        table = routes(svc.app)
        secured = [r for r in table if r.secured]
        public = [r.label for r in table if not r.secured]
        failures: list[str] = []
        cases = 0
        # Upserts last: tenant B's own object of the same name would answer B's later reads.
        for route in sorted(secured, key=lambda r: (r.method, r.path) in TENANT_NAMESPACED):
            cases += await check_route(svc, route, ids, failures)
    report = {"service": name, "endpoints": len(secured), "cases": cases, "public_skipped": public}
    write_report(f"isolation-{name}", report)
    print(f"\nisolation matrix {name}: {len(secured)} endpoints, {cases} cases; public by design: {public}")
    assert not failures, f"{len(failures)} isolation failures:\n" + "\n".join(failures)


async def test_a_route_without_a_fixture_fails_with_a_hint() -> None:
    """Coverage cannot shrink silently: a path parameter no factory knows is a failure naming the factory."""
    route = Route("GET", "/v1/widgets/{widget_id}", {"security": [{"HTTPBearer": []}]})
    failures: list[str] = []
    svc = cast(RunningService, SimpleNamespace(name="consent", app=None))
    assert await check_route(svc, route, {"key": "newsletter"}, failures) == 0
    assert failures == [
        "GET /v1/widgets/{widget_id}: no fixture for path parameter(s) ['widget_id']; add an object to the "
        "'consent' factory in tests/hardening/factories.py"
    ]
