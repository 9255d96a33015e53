"""Tenant isolation matrix, generated from each service's route table (a new endpoint is covered automatically).

For every operation that requires the bearer scheme: no token, an expired token and a wrongly signed
token are 401; a token of the right tenant without any scope of this service is 403; and for an
operation with path parameters, tenant B's full-admin token against tenant A's real objects is 404,
never 200 and never a 403 that would reveal the object exists. Tenant A's own token gets a 2xx on
the same reads, which proves the ids are real.

Roles: every role of ``shared/rules/roles.py`` (a person's token carries exactly ``scopes_for([role])``)
against every such operation, on tenant A's real objects. The scope an operation needs is read from its
dependencies (``support.requirements``); a role whose scopes do not grant it gets a 403, a role whose scopes
grant it is let through (2xx, or 404/409/422 on the state the earlier calls left), never 401/403 nor 5xx.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from fastapi import Depends, FastAPI

from shared.rules.roles import ROLES, scopes_for
from shared.rules.subjects import normalise_email
from shared.runtime.auth import Principal, require, require_any
from shared.runtime.uow import unit_of_work
from tests.hardening.factories import EMAIL, FACTORIES, NAME, SUBJECT
from tests.hardening.support import (
    ALL_SCOPES,
    TENANT_A,
    TENANT_B,
    Requirement,
    Route,
    bearer,
    expired,
    granted,
    problem_errors,
    request_of,
    requirements,
    routes,
    service,
    signed,
    write_report,
)
from tests.support.stack import SERVICES, Infra, RunningService

pytestmark = pytest.mark.integration

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
    ("consent", "/v1/notice-messages/{message_id}/claim"),
    ("dsar", "/v1/notifications/{notification_id}/claim"),
    ("breach", "/v1/notices/{notice_id}/deliveries/{delivery_id}/claim"),
    ("breach", "/v1/notice-approvals/{approval_id}/claim"),
    ("subprocessor", "/v1/notifications/{notification_id}"),
}


def others(name: str, path: str = "") -> list[str]:
    """Every scope except this service's (and, on a message claim route, notify's claim scope, which it accepts)."""
    claim = (name, path) in CLAIM_ROUTES
    return [s for s in ALL_SCOPES if not s.startswith(f"{name}:") and not (claim and s == "notify:claim")]


def without_fixture(svc: RunningService, route: Route, ids: dict[str, str], failures: list[str]) -> bool:
    """True (and a failure naming the factory to extend) when a path parameter of ``route`` has no fixture."""
    missing = [p for p in route.params if p not in ids]
    if missing:
        failures.append(
            f"{route.label}: no fixture for path parameter(s) {missing}; add an object to the "
            f"{svc.name!r} factory in tests/hardening/factories.py"
        )
    return bool(missing)


async def check_route(svc: RunningService, route: Route, ids: dict[str, str], failures: list[str]) -> int:
    """Run every case of the matrix for one route; return how many cases ran."""
    if without_fixture(svc, route, ids, failures):
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


# Checks a handler makes on the object, on top of the route's dependencies: the factory's DSAR task belongs to a
# system with an API, whose task only its store or a DSAR admin reads the identifiers of, or closes by hand.
IN_HANDLER: dict[tuple[str, str, str], Requirement] = {
    ("dsar", "GET", "/v1/tasks/{task_id}/identifiers"): Requirement(("dsar:admin",)),
    ("dsar", "POST", "/v1/tasks/{task_id}/close"): Requirement(("dsar:admin",)),
}


def person(role: str) -> dict[str, str]:
    """Tenant A's person holding ``role``, with a token like the one the identity service signs at sign-in."""
    email = normalise_email(EMAIL)  # a real account of the factory: /userinfo answers it
    return signed(
        TENANT_A, scopes_for([role]), f"user:{email}", client_id="console", email=email, name=NAME, roles=[role]
    )


async def check_roles(
    svc: RunningService, route: Route, ids: dict[str, str], failures: list[str], tally: dict[str, Counter[str]]
) -> None:
    """Every role against one route: 403 exactly when its scopes do not grant what the route's dependencies need."""
    if without_fixture(svc, route, ids, failures):
        return
    needs = requirements(svc.app, route)
    if (svc.name, route.method, route.path) in IN_HANDLER:
        needs.append(IN_HANDLER[svc.name, route.method, route.path])
    request = request_of(svc.app, route, failures)
    for role in ROLES:
        allowed = granted(needs, scopes_for([role]))
        response = await svc.client.request(route.method, route.url(ids), headers=person(role), **request)
        tally[role]["granted" if allowed else "denied"] += 1
        status = response.status_code
        label = f"{route.label} [role {role}, needs {' and '.join(map(str, needs)) or 'any valid token'}]"
        if not allowed and status != 403:
            failures.append(f"{label}: {status} (expected 403: its scopes do not grant it) {response.text[:300]}")
        elif not allowed and (errors := problem_errors(response)):
            failures.append(f"{label}: not a problem document: {errors}")
        elif allowed and (status in (401, 403) or status >= 500):
            failures.append(f"{label}: {status} (expected its scopes to let it through) {response.text[:300]}")


@pytest.mark.parametrize("name", SERVICES)
async def test_every_route_isolates_tenants_and_roles(
    infra: Infra, topic_prefix: str, tmp_path: Path, name: str
) -> None:
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
        # Then the roles, on the same objects (the cases above change none of tenant A's); deletions last, as what
        # they remove (a client, a person, a system) answers the routes before them.
        tally: dict[str, Counter[str]] = {role: Counter() for role in ROLES}
        for route in sorted(secured, key=lambda r: r.method == "DELETE"):
            await check_roles(svc, route, ids, failures, tally)
    roles = {role: dict(c) for role, c in tally.items()}
    report = {"service": name, "endpoints": len(secured), "cases": cases, "public_skipped": public, "roles": roles}
    write_report(f"isolation-{name}", report)
    print(
        f"\nisolation matrix {name}: {len(secured)} endpoints, {cases} cases; public by design: {public}; roles {roles}"
    )
    assert not failures, f"{len(failures)} isolation failures:\n" + "\n".join(failures)


def test_the_scopes_a_route_needs_are_read_from_its_dependencies() -> None:
    """``requirements`` sees through ``unit_of_work`` (any of its scopes) and stacked ``require`` (all of them)."""
    app = FastAPI()

    @app.get("/one")
    async def one(uow: Any = Depends(unit_of_work("dsar:write", "dsar:task"))) -> None: ...

    @app.post("/two", dependencies=[Depends(require("consent:read"))])
    async def two(principal: Principal = Depends(require_any("breach:admin"))) -> None: ...

    one_needs = requirements(app, Route("GET", "/one", {}))
    assert one_needs == [Requirement(("dsar:write", "dsar:task"), any_of=True)]
    assert granted(one_needs, ["dsar:task"]) and granted(one_needs, ["dsar:admin"])
    assert not granted(one_needs, ["dsar:read", "consent:admin"])
    two_needs = requirements(app, Route("POST", "/two", {}))
    assert two_needs == [Requirement(("consent:read",)), Requirement(("breach:admin",))]
    assert granted(two_needs, ["consent:write", "breach:admin"]) and not granted(two_needs, ["breach:admin"])


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
