"""Fuzzing every service's OpenAPI schema with schemathesis, in-process (ASGI), as a tenant's administrator.

Checks on every generated case (positive and negative data): no 5xx, every 4xx/5xx is an RFC 9457
problem+json document (type, title, status, detail), and the response conforms to the schema (status
code documented, content type, body, headers). Generation runs in a worker thread with Hypothesis;
each request is sent through ``httpx.ASGITransport`` on the test's event loop, where the service's
database pool and broker clients live. Path parameters are sometimes replaced by the ids of real
objects made by the fixture factories, so handlers run on live state and not only on 404s.

``make test`` runs about 100 cases per service (fixed seed). Set ``PRIVOPS_FUZZ_EXAMPLES=1000`` (cases per
service, random seed) for the long run; figures go to ``.privops/reports/fuzz-<service>.json``.

The token endpoint gets its own test as well: schemathesis does generate its form bodies, but always sends the
fuzzer's bearer token, checks only its schema, and gives it a few cases among identity's operations. There random
form fields (unicode, NUL, huge values, real client ids and scopes) go in with and without HTTP Basic (right and
wrong secrets, malformed headers), and every answer is a 200 or an RFC 6749 §5.2 error with ``no-store``.
"""

from __future__ import annotations

import asyncio
import base64
import math
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, example, given, reject, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.hardening.factories import FACTORIES, SUBJECT
from tests.hardening.support import (
    ALL_SCOPES,
    OAUTH_ERRORS,
    TENANT_A,
    TENANT_B,
    bearer,
    problem_errors,
    service,
    write_report,
)
from tests.integration.identity.support import PEOPLE_CLIENTS, SECRET, identity
from tests.support.stack import SERVICES, Infra, RunningService

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]

LONG = "PRIVOPS_FUZZ_EXAMPLES" in os.environ
EXAMPLES = int(os.environ.get("PRIVOPS_FUZZ_EXAMPLES", "100"))  # generated cases per service
BUDGET_S = float(os.environ.get("PRIVOPS_FUZZ_BUDGET_S", "3600" if LONG else "30"))  # wall clock per service
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
SKIP = {"/healthz", "/readyz"}  # probes: not part of the API contract
# Protocol endpoints whose errors another specification defines (their schemas are still checked): the OAuth
# 2.0 token endpoint answers RFC 6749 §5.2 JSON errors, the OpenID Connect login pages are HTML for a browser.
FOREIGN_ERRORS = {"/oauth/token", "/authorize", "/invite"}


class Fuzzer:
    """Drives Hypothesis in a worker thread and sends each case to the service on the event loop."""

    def __init__(self, svc: RunningService, ids: dict[str, str], loop: asyncio.AbstractEventLoop) -> None:
        self.svc = svc
        self.ids = ids
        self.loop = loop
        self.headers = bearer(TENANT_A, *ALL_SCOPES, subject=SUBJECT)
        self.cases: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.failures: dict[str, str] = {}
        self.deadline = time.monotonic() + BUDGET_S

    def send(self, case: Any) -> httpx.Response:
        """Serialise the case as schemathesis would, send it in-process, return the response."""
        kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=dict(self.headers))
        kwargs.pop("auth", None)
        prepared = requests.Request(**{k: kwargs[k] for k in kwargs if k in REQUEST_ARGS}).prepare()
        headers = {
            k: v.decode("latin-1") if isinstance(v, bytes) else v
            for k, v in prepared.headers.items()
            if k.lower() != "content-length"
        }
        headers["Authorization"] = self.headers["Authorization"]
        body = prepared.body.encode() if isinstance(prepared.body, str) else cast(bytes | None, prepared.body)
        call = self.svc.client.request(prepared.method or "GET", prepared.url or "/", headers=headers, content=body)
        return asyncio.run_coroutine_threadsafe(call, self.loop).result(timeout=60)

    def check(self, operation: Any, case: Any) -> None:
        """Send one case and record every broken promise (first one per operation and kind)."""
        if time.monotonic() > self.deadline:
            reject()
        response = self.send(case)
        self.cases[operation.label] += 1
        self.statuses[response.status_code] += 1
        problems = []
        foreign = operation.path in FOREIGN_ERRORS
        if response.status_code >= 400 and not foreign and (errors := problem_errors(response)):
            problems.append(f"not a problem document: {errors}")
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis's FailureGroup lists every failed check
            problems.append(str(exc))
        for problem in problems:
            key = f"{operation.label} → {response.status_code}: {problem.splitlines()[0][:120]}"
            self.failures.setdefault(key, f"{problem[:1500]}\n  {case.as_curl_command()}")

    def run(self, schema: Any, per_operation: int) -> None:
        """Fuzz every operation of ``schema`` (runs in a worker thread)."""
        for result in schema.get_all_operations():
            operation = cast(Any, result).ok()
            if operation.path not in SKIP:
                self.fuzz(operation, per_operation)()

    def fuzz(self, operation: Any, per_operation: int) -> Any:
        """The Hypothesis test of one operation."""
        strategy = st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )
        known = [p.name for p in operation.path_parameters if p.name in self.ids]

        @settings(
            max_examples=per_operation,
            deadline=None,
            database=None,
            derandomize=not LONG,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy, real=st.booleans())
        def fuzz(case: Any, real: bool) -> None:
            if real and known and case.path_parameters is not None:
                for name in known:  # address a live object of the tenant, with the rest of the data fuzzed
                    case.path_parameters[name] = self.ids[name]
            self.check(operation, case)

        return fuzz


REQUEST_ARGS = {"method", "url", "headers", "params", "data", "json", "files", "cookies"}


@pytest.mark.parametrize("name", SERVICES)
async def test_fuzz_every_operation(infra: Infra, topic_prefix: str, tmp_path: Path, name: str) -> None:
    async with service(infra, name, topic_prefix, tmp_path) as svc:
        ids = await FACTORIES[name](svc, TENANT_A)
        schema = schemathesis.openapi.from_dict(svc.app.openapi())
        operations = [op for op in (cast(Any, r).ok() for r in schema.get_all_operations()) if op.path not in SKIP]
        per_operation = max(1, math.ceil(EXAMPLES / len(operations)))
        fuzzer = Fuzzer(svc, ids, asyncio.get_running_loop())
        started = time.monotonic()
        await asyncio.to_thread(fuzzer.run, schema, per_operation)
        elapsed = time.monotonic() - started
    total = sum(fuzzer.cases.values())
    write_report(
        f"fuzz-{name}",
        {
            "service": name,
            "operations": len(operations),
            "cases": total,
            "per_operation": dict(fuzzer.cases),
            "statuses": {str(k): v for k, v in sorted(fuzzer.statuses.items())},
            "seconds": round(elapsed, 1),
            "failures": fuzzer.failures,
        },
    )
    print(f"\nfuzz {name}: {total} cases over {len(operations)} operations in {elapsed:.0f}s, {dict(fuzzer.statuses)}")
    assert not fuzzer.failures, f"{len(fuzzer.failures)} failures:\n" + "\n\n".join(
        f"{k}\n{v}" for k, v in fuzzer.failures.items()
    )
    assert total >= min(EXAMPLES, len(operations)), "the fuzzer ran out of time before covering every operation"


async def test_what_the_fuzzer_found_stays_fixed(infra: Infra, topic_prefix: str, tmp_path: Path) -> None:
    """NUL characters (PostgreSQL text cannot hold them) are a 422, never a 500; a non-hex signature is invalid."""
    headers = bearer(TENANT_A, *ALL_SCOPES, subject=SUBJECT)
    async with service(infra, "consent", topic_prefix, tmp_path) as svc:
        ids = await FACTORIES["consent"](svc, TENANT_A)
        refused = [
            await svc.client.get(
                "/v1/checks", params={"subject_ref": "a" * 64, "purpose": "news\x00"}, headers=headers
            ),
            await svc.client.get("/v1/purposes/news%00letter", headers=headers),
            await svc.client.patch("/v1/purposes/newsletter", json={"name": "News\x00"}, headers=headers),
            await svc.client.post(
                f"/v1/imports/{ids['import_id']}/rows",
                params={"offset": 1},
                content=b'{"subject_kind": "email", "subject": "a\x00@example.com", "purpose": "newsletter"}\n',
                headers=headers | {"Content-Type": "application/x-ndjson"},
            ),
        ]
        assert [r.status_code for r in refused] == [422] * 4, [r.text for r in refused]
        assert all(not problem_errors(r) and "NUL" in r.json()["detail"] for r in refused)
        assert (await svc.client.get("/v1/purposes/newsletter", headers=headers)).json()["name"] == "Newsletter"
    async with service(infra, "dsar", topic_prefix, tmp_path) as svc:
        system = {"name": "CRM\x00", "owner": "ops", "actions": ["erase"]}
        assert (await svc.client.put("/v1/systems/crm", json=system, headers=headers)).status_code == 422
        assert (await svc.client.get("/v1/systems", headers=headers)).json() == []
        check = {"certificate": {"certificate_id": "x"}, "signature": "é" * 64}
        verified = await svc.client.post("/v1/certificates/verify", json=check, headers=headers)
        assert (verified.status_code, verified.json()["valid"]) == (200, False)


# The token endpoint's parameters (RFC 6749 §4.1.3, §4.4.2, §2.3.1; RFC 7636 §4.5; privops' tenant).
TOKEN_FIELDS = ("grant_type", "scope", "tenant", "client_id", "client_secret", "code", "code_verifier", "redirect_uri")
CRM_STORE = {"client_id": "acme-crm", "tenant": TENANT_A, "name": "CRM", "kind": "store", "scopes": ["dsar:task"]}
TOKEN_CLIENTS = [*PEOPLE_CLIENTS, CRM_STORE | {"system": "crm"}]
FORM = "application/x-www-form-urlencoded"


def b64(text: str) -> str:
    """``text`` in base64, as HTTP Basic carries it."""
    return base64.b64encode(text.encode()).decode()


# Found by this test: a NUL in the client id of HTTP Basic (raw, or form-encoded as %00) reached the database.
FOUND = [
    ({"grant_type": "client_credentials"}, {"Content-Type": FORM, "Authorization": "Basic " + b64(f"a{nul}b:s")})
    for nul in ("\x00", "%00")
]


def token_requests() -> st.SearchStrategy[tuple[dict[str, str], dict[str, str]]]:
    """A form (any of the token endpoint's fields, each plausible, random, with a NUL or huge) and its headers."""
    ids = [c["client_id"] for c in TOKEN_CLIENTS]
    plausible = {
        "grant_type": st.sampled_from(["client_credentials", "authorization_code", "password", "refresh_token"]),
        "scope": st.lists(st.sampled_from((*ALL_SCOPES, "platform:admin", "openid", "dsar:root")), max_size=4).map(
            " ".join
        ),
        "tenant": st.sampled_from([TENANT_A, TENANT_B, "*", "ops", "A", "-x", "x" * 64]),
        "client_id": st.sampled_from(ids),
        "client_secret": st.sampled_from([SECRET, SECRET[:-1], ""]),
        "code": st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", max_size=64),
        "code_verifier": st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~", min_size=43, max_size=128),
        "redirect_uri": st.sampled_from(["https://console.acme.test/callback", "http://evil.test/", "not a uri"]),
    }
    nul = st.builds(lambda a, b: f"{a}\x00{b}", st.text(max_size=8), st.text(max_size=8))
    huge = st.builds(lambda c, n: c * n, st.characters(), st.integers(4_000, 40_000))

    def value(name: str) -> st.SearchStrategy[str]:
        return st.one_of(plausible[name], plausible[name], st.text(), nul, huge)

    form = st.fixed_dictionaries({}, optional={name: value(name) for name in TOKEN_FIELDS})

    def basic(client_id: str, secret: str) -> str:
        return "Basic " + b64(f"{client_id}:{secret}")

    authorization = st.one_of(
        st.none(),
        st.builds(basic, st.sampled_from(ids), st.sampled_from([SECRET, SECRET + "x"])),
        st.builds(basic, st.one_of(st.text(), nul, st.sampled_from(ids)), st.one_of(st.text(), nul, huge)),
        st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80).map("Basic ".__add__),
        st.just(bearer(TENANT_A, "identity:admin")["Authorization"]),
    )
    content_type = st.sampled_from([FORM, FORM, FORM, f"{FORM}; charset=UTF-8", "application/json", "text/plain"])
    anything = st.tuples(
        form,
        st.builds(
            lambda auth, kind: {"Content-Type": kind} | ({"Authorization": auth} if auth is not None else {}),
            authorization,
            content_type,
        ),
    )
    # A real client asking for client credentials, with a plausible scope and tenant and at most one field fuzzed:
    # what reaches the scope and tenant rules and the signing of a token.
    client = st.sampled_from([c for c in TOKEN_CLIENTS if c["kind"] != "console"])
    asked = st.fixed_dictionaries(
        {"grant_type": st.just("client_credentials")},
        optional={"scope": plausible["scope"], "tenant": plausible["tenant"]},
    )
    fuzzed: st.SearchStrategy[dict[str, str]] = st.one_of(
        st.just({}), st.sampled_from(TOKEN_FIELDS).flatmap(lambda k: value(k).map(lambda v: {k: v}))
    )
    wellformed = st.builds(
        lambda c, a, f: (a | f, {"Content-Type": FORM, "Authorization": basic(c["client_id"], SECRET)}),
        client,
        asked,
        fuzzed,
    )
    return st.one_of(wellformed, anything)


def token_answer_errors(response: httpx.Response) -> list[str]:
    """What makes ``response`` not a token endpoint's answer: a 200 token or an RFC 6749 §5.2 error, never cached."""
    errors = []
    if response.status_code not in (200, 400, 401):
        errors.append(f"status {response.status_code}")
    if "no-store" not in response.headers.get("cache-control", ""):
        errors.append(f"Cache-Control is {response.headers.get('cache-control')!r}")
    try:
        body = response.json()
    except ValueError:
        return [*errors, f"body is not JSON: {response.text[:200]!r}"]
    if response.status_code == 200:
        if not (isinstance(body, dict) and body.get("token_type") == "Bearer" and body.get("access_token")):
            errors.append(f"not a token response: {body!r:.200}")
    elif not isinstance(body, dict) or body.get("error") not in OAUTH_ERRORS:
        errors.append(f"not an RFC 6749 error: {body!r:.200}")
    elif response.status_code == 401 and "www-authenticate" not in response.headers:
        errors.append("a 401 without WWW-Authenticate")
    return errors


async def test_fuzz_the_token_endpoint(infra: Infra, topic_prefix: str, tmp_path: Path) -> None:
    async with identity(infra, topic_prefix, tmp_path, clients=TOKEN_CLIENTS) as svc:
        loop = asyncio.get_running_loop()
        outcomes: Counter[str] = Counter()
        failures: dict[str, str] = {}
        deadline = time.monotonic() + BUDGET_S

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=not LONG,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(request=token_requests())
        @example(request=FOUND[0])
        @example(request=FOUND[1])
        def fuzz(request: tuple[dict[str, str], dict[str, str]]) -> None:
            if time.monotonic() > deadline:
                reject()
            form, headers = request
            call = svc.client.post("/oauth/token", data=form, headers=headers)
            response = asyncio.run_coroutine_threadsafe(call, loop).result(timeout=60)
            body = response.json() if response.headers.get("content-type", "").endswith("json") else {}
            outcomes[f"{response.status_code} {body.get('error', '') if isinstance(body, dict) else ''}".strip()] += 1
            if errors := token_answer_errors(response):
                shown = {k: (v[:60] + f"…({len(v)} chars)" if len(v) > 60 else v) for k, v in form.items()}
                key = f"{response.status_code}: {errors[0][:120]}"
                failures.setdefault(key, f"{errors}\n  form {shown!r}\n  headers {headers!r}\n  {response.text[:300]}")

        await asyncio.to_thread(fuzz)
    total = sum(outcomes.values())
    write_report("fuzz-token-endpoint", {"cases": total, "outcomes": dict(outcomes), "failures": failures})
    print(f"\nfuzz POST /oauth/token: {total} cases, {dict(outcomes)}")
    assert not failures, f"{len(failures)} failures:\n" + "\n\n".join(f"{k}\n{v}" for k, v in failures.items())
    assert outcomes["200"] and outcomes["401 invalid_client"], "the generator no longer reaches both ends"
