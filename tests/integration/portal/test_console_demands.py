"""The console's authority demands, evidence pack and contract ends, per role, through the ASGI app with fakes.

A role without the scope sees no button and gets a 403 page when it posts anyway (nothing reaches the
service); a stranger is sent to sign in; the four-eyes refusals are shown as a clear message on the page.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from services.portal.api.deps import Session
from services.portal.app import create_app
from shared.rules.clock import ManualClock
from shared.rules.roles import ROLES
from tests.integration.portal.fakes import NOW, settings
from tests.integration.portal.fakes_console_more import (
    DEMAND_ID,
    END_ID,
    END_TASK_ID,
    OTHER,
    PACK,
    SUBJECT_REF,
    MoreConsole,
    a_contract_end,
    a_demand,
    an_end_task,
)
from tests.integration.portal.test_console import as_role, posted
from tests.integration.portal.test_pages import browser

DEMAND = f"/console/demands/{DEMAND_ID}"
END = f"/console/contract-ends/{END_ID}"
GETS = ["/console/demands", "/console/demands/new", DEMAND, "/console/evidence", "/console/contract-ends", END]
NEEDS = {
    "/console/demands": "subprocessor:write",
    f"{DEMAND}/review/start": "subprocessor:write",
    f"{DEMAND}/review": "subprocessor:admin",
    f"{DEMAND}/disclosures": "subprocessor:admin",
    f"{DEMAND}/deferral": "subprocessor:admin",
    f"{DEMAND}/notification": "subprocessor:write",
    f"{DEMAND}/close": "subprocessor:write",
    "/console/evidence": "evidence:read",
    "/console/contract-ends": "dsar:admin",
    f"{END}/confirm": "dsar:admin",
    f"{END}/cancel": "dsar:admin",
    f"{END}/tasks/{END_TASK_ID}/close": "dsar:admin",
}


@pytest.fixture
def services() -> MoreConsole:
    return MoreConsole(ends={END_ID: a_contract_end()})


@pytest.fixture
def app(services: MoreConsole) -> FastAPI:
    return create_app(settings(), ManualClock(NOW), transport=httpx.MockTransport(services.handle))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(app) as http:
        yield http


def sent_to_services(services: MoreConsole) -> list[str]:
    return [u for m, u, _, _ in services.calls if m == "POST" and "/oauth/token" not in u]


@pytest.mark.parametrize("path", [*GETS, f"{END}/certificate"])
async def test_a_stranger_is_sent_to_sign_in(client: httpx.AsyncClient, path: str) -> None:
    page = await client.get(path)
    assert page.status_code == 303 and page.headers["location"].startswith("/console/login?next=")


@pytest.mark.parametrize("path", list(NEEDS))
async def test_a_stranger_or_a_forged_form_posts_nothing(
    client: httpx.AsyncClient, services: MoreConsole, path: str
) -> None:
    page = await client.post(path, data={"csrf": "x"})
    assert page.status_code == 303 and page.headers["location"].startswith("/console/login")
    await as_role(client, services, "admin")
    forged = await client.post(path, data={"csrf": "forged"})
    assert forged.status_code == 403 and "expired" in forged.text
    assert sent_to_services(services) == []


@pytest.mark.parametrize("role", sorted(ROLES))
async def test_each_role_may_post_exactly_what_its_scopes_give(
    client: httpx.AsyncClient, services: MoreConsole, role: str
) -> None:
    services.ends[END_ID]["requested_by"] = OTHER  # else the four-eyes rule refuses the confirmation
    csrf = await as_role(client, services, role)
    session = Session(sid="s", token="t", tenant="demo", email="", name=None, scopes=frozenset(ROLES[role]), csrf="")
    for path, scope in NEEDS.items():
        answer = await client.post(path, data={"csrf": csrf})
        allowed = session.may(scope)
        assert answer.status_code in ((303, 409, 422) if allowed else (403,)), (role, path, answer.status_code)
        if not allowed:
            assert "Your role does not allow this" in answer.text
    if not any(Session("s", "t", "demo", "", None, frozenset(ROLES[role]), "").may(s) for s in NEEDS.values()):
        assert sent_to_services(services) == []


@pytest.mark.parametrize("role", sorted(ROLES))
async def test_each_page_shows_only_the_buttons_of_the_role(
    client: httpx.AsyncClient, services: MoreConsole, role: str
) -> None:
    services.demands[DEMAND_ID]["status"] = "under_review"
    await as_role(client, services, role)
    scopes = Session("s", "t", "demo", "", None, frozenset(ROLES[role]), "")
    for path in GETS:
        page = await client.get(path)
        assert page.status_code == 200, (role, path, page.status_code)
    demand = (await client.get(DEMAND)).text
    assert ("Record the decision" in demand) is scopes.may("subprocessor:admin")
    assert ("Defer telling the customer" in demand) is scopes.may("subprocessor:admin")
    assert ("Record a demand" in (await client.get("/console/demands")).text) is scopes.may("subprocessor:write")
    assert ("Download the pack" in (await client.get("/console/evidence")).text) is scopes.may("evidence:read")
    end = (await client.get(END)).text
    assert ("Confirm the contract end" in end) is scopes.may("dsar:admin")
    if not scopes.may("dsar:admin"):
        assert "Your role does not handle contract ends" in (await client.get("/console/contract-ends")).text


async def test_the_register_filters_by_status_country_and_date(
    client: httpx.AsyncClient, services: MoreConsole
) -> None:
    await as_role(client, services, "auditor")
    page = await client.get("/console/demands", params={"status": "received", "country": "fr", "since": "2026-03-01"})
    assert page.status_code == 200 and "BRDA-2026-0412" in page.text and "Customer&#39;s contacts emailed" in page.text
    assert services.params == {
        "limit": "200",
        "status": "received",
        "country": "FR",
        "since": "2026-03-01T00:00:00+00:00",
    }
    assert 'value="received" selected' in page.text
    customer = "d5b2f3a4-2222-4b3c-9d4e-0f9e8d7c6b52"
    await client.get("/console/demands", params={"customer_id": customer.upper()})
    assert services.params == {"limit": "200", "customer_id": customer}
    odd = await client.get(
        "/console/demands", params={"status": "bogus", "customer_id": "acme", "country": "France", "until": "soon"}
    )
    assert odd.status_code == 200 and services.params == {"limit": "200"}
    none = await client.get("/console/demands", params={"status": "closed"})
    assert "No demand matches these filters" in none.text


async def test_a_demand_is_recorded_with_its_deferral(client: httpx.AsyncClient, services: MoreConsole) -> None:
    csrf = await as_role(client, services, "admin")
    form = await client.get("/console/demands/new")
    assert '<label for="authority_country">' in form.text and 'name="deferral_until"' in form.text
    bad = await client.post("/console/demands", data={"csrf": csrf, "authority_name": "BRDA", "authority_country": "F"})
    assert bad.status_code == 422 and "two letters" in bad.text and "Name at least one person" in bad.text
    assert 'value="BRDA"' in bad.text and posted(services, "/v1/demands") == []
    recorded = await client.post(
        "/console/demands",
        data={
            "csrf": csrf,
            "authority_name": "BRDA",
            "authority_country": "fr",
            "authority_reference": "BRDA-2026-0500",
            "legal_basis": "Réquisition judiciaire",
            "legal_reference": "CPP art. 60-1",
            "received_at": "2026-03-09T08:30",
            "customer_id": "d5b2f3a4-2222-4b3c-9d4e-0f9e8d7c6b52",
            "subjects": "ada@example.com\nuser_id: 42",
            "data_categories": "contact_details, connection_logs",
            "defer": "yes",
            "deferral_reason": "The judge forbids telling the customer.",
            "deferral_instrument": "Ordonnance 2026/118",
            "deferral_until": "2026-06-01",
        },
    )
    assert recorded.status_code == 303 and recorded.headers["location"].endswith("?done=demand")
    ((_, body),) = posted(services, "subprocessor.test/v1/demands")
    assert body["authority"] == {"name": "BRDA", "country": "FR"} and body["received_at"] == "2026-03-09T08:30:00+00:00"
    assert body["subjects"] == [{"kind": "email", "value": "ada@example.com"}, {"kind": "user_id", "value": "42"}]
    assert body["deferral"]["until"] == "2026-06-01T00:00:00+00:00"
    page = await client.get(recorded.headers["location"])
    assert "Demand recorded" in page.text and "Deferred: a legal instrument" in page.text


async def test_the_recorder_cannot_decide_and_is_told_why(client: httpx.AsyncClient, services: MoreConsole) -> None:
    csrf = await as_role(client, services, "dpo")
    started = await client.post(f"{DEMAND}/review/start", data={"csrf": csrf})
    assert started.status_code == 303 and started.headers["location"] == f"{DEMAND}?done=reviewing"
    page = await client.get(started.headers["location"])
    assert "Review started." in page.text and 'id="same-person"' in page.text
    missing = await client.post(f"{DEMAND}/review", data={"csrf": csrf, "decision": "refused"})
    assert missing.status_code == 422 and "Fill in the reasons" in missing.text
    same = await client.post(f"{DEMAND}/review", data={"csrf": csrf, "decision": "refused", "reasoning": "Too broad."})
    assert same.status_code == 409 and 'role="alert"' in same.text
    assert "another person must decide it" in same.text and "may not review it" in same.text
    assert services.demands[DEMAND_ID]["decision"] is None


async def test_another_person_decides_discloses_defers_tells_and_closes(
    client: httpx.AsyncClient, services: MoreConsole
) -> None:
    services.demands[DEMAND_ID] |= {"status": "under_review", "recorded_by": OTHER}
    csrf = await as_role(client, services, "dpo")
    page = await client.get(DEMAND)
    assert 'id="same-person"' not in page.text and 'type="radio" name="decision"' in page.text
    assert "Acme Corp <code>" in page.text
    decided = await client.post(
        f"{DEMAND}/review", data={"csrf": csrf, "decision": "partially_disclosed", "reasoning": "Logs only."}
    )
    assert decided.status_code == 303
    assert posted(services, "/review")[-1][1] == {"decision": "partially_disclosed", "reasoning": "Logs only."}
    disclosed = await client.post(
        f"{DEMAND}/disclosures",
        data={
            "csrf": csrf,
            "subject_ref": SUBJECT_REF,
            "categories": ["connection_logs", "contact_details"],
            "records_count": "42",
            "channel": "encrypted archive",
            "disclosed_at": "2026-03-10T08:00",
        },
    )
    assert disclosed.status_code == 303
    ((_, body),) = posted(services, "/disclosures")
    assert body["records_count"] == 42 and body["disclosed_at"] == "2026-03-10T08:00:00+00:00"
    assert body["categories"] == ["connection_logs", "contact_details"]
    bad = await client.post(f"{DEMAND}/deferral", data={"csrf": csrf, "deferral_reason": "Gag order"})
    assert bad.status_code == 422 and "day the deferral ends" in bad.text
    deferred = await client.post(
        f"{DEMAND}/deferral",
        data={
            "csrf": csrf,
            "deferral_reason": "Gag order",
            "deferral_instrument": "Ord. 1",
            "deferral_until": "2026-06-01",
        },
    )
    assert deferred.status_code == 303
    page = await client.get(DEMAND)
    assert "Deferred until <strong>2026-06-01</strong> under Ord. 1" in page.text and "42" in page.text
    assert "Tell the customer now (ends the deferral)" in page.text
    told = await client.post(f"{DEMAND}/notification", data={"csrf": csrf})
    assert told.status_code == 303 and services.demands[DEMAND_ID]["notification"] == "requested"
    closed = await client.post(f"{DEMAND}/close", data={"csrf": csrf, "note": "Done."})
    assert closed.status_code == 303 and posted(services, "/close")[-1][1] == {"note": "Done."}
    after = await client.get(closed.headers["location"])
    assert "Demand closed." in after.text and "Record a disclosure" not in after.text


async def test_a_service_refusal_is_a_clear_page(client: httpx.AsyncClient, services: MoreConsole) -> None:
    await as_role(client, services, "dpo")
    missing = await client.get("/console/demands/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and "No such demand." in missing.text
    services.deny = True
    for path in ("/console/demands", DEMAND, "/console/contract-ends", END):
        page = await client.get(path)
        assert page.status_code == 403 and "lacks the scope" in page.text, path


async def test_an_auditor_downloads_the_evidence_pack(client: httpx.AsyncClient, services: MoreConsole) -> None:
    csrf = await as_role(client, services, "auditor")
    page = await client.get("/console/evidence")
    assert 'value="2026-01-01"' in page.text and 'value="2026-03-10"' in page.text
    assert "privops verify pack.zip" in page.text and '<label for="since">' in page.text
    pack = await client.post("/console/evidence", data={"csrf": csrf, "since": "2026-01-01", "until": "2026-03-09"})
    assert pack.status_code == 200 and pack.content == PACK
    assert pack.headers["content-type"] == "application/zip"
    assert pack.headers["content-disposition"] == 'attachment; filename="evidence-demo-2026-01-01-2026-03-09.zip"'
    assert pack.headers["x-evidence-pack-complete"] == "true" and pack.headers["cache-control"] == "no-store"
    ((headers, body),) = services.sent("POST", "identity.test/v1/evidence-packs")
    assert body == {"since": "2026-01-01", "until": "2026-03-09", "tenant": "demo"}
    assert headers["authorization"].startswith("Bearer ")
    assert services.pack_timeout["read"] == 120.0  # a pack takes longer than a page's call


@pytest.mark.parametrize(
    ("since", "until", "reason"),
    [
        ("2026-03-09", "2026-01-01", "comes after"),
        ("2026-01-01", "2026-04-01", "in the future"),
        ("yesterday", "2026-03-01", "YYYY-MM-DD"),
        ("2020-01-01", "2026-03-01", "three years at most"),
    ],
)
async def test_a_bad_period_is_shown_again(
    client: httpx.AsyncClient, services: MoreConsole, since: str, until: str, reason: str
) -> None:
    csrf = await as_role(client, services, "dpo")
    page = await client.post("/console/evidence", data={"csrf": csrf, "since": since, "until": until})
    assert page.status_code == 422 and reason in page.text and f'value="{since}"' in page.text
    assert services.sent("POST", "/v1/evidence-packs") == []


async def test_the_identity_services_problem_is_shown(client: httpx.AsyncClient, services: MoreConsole) -> None:
    csrf = await as_role(client, services, "dpo")
    services.pack_status = 422
    page = await client.post("/console/evidence", data={"csrf": csrf, "since": "2026-01-01", "until": "2026-01-02"})
    assert page.status_code == 422 and "until is before since" in page.text
    services.pack_status = 503
    down = await client.post("/console/evidence", data={"csrf": csrf, "since": "2026-01-01", "until": "2026-01-02"})
    assert down.status_code == 502 and "did not answer" in down.text


async def test_a_contract_end_is_asked_and_the_asker_cannot_confirm(
    client: httpx.AsyncClient, services: MoreConsole
) -> None:
    services.ends.clear()
    csrf = await as_role(client, services, "dpo")
    page = await client.get("/console/contract-ends")
    assert "No contract end." in page.text and 'value="return_then_delete"' in page.text
    bad = await client.post("/console/contract-ends", data={"csrf": csrf, "mode": "delete", "reason": "ok"})
    assert bad.status_code == 422 and "the date the contract ends" in bad.text and "contact email" in bad.text
    assert posted(services, "contract-ends") == []
    asked = await client.post(
        "/console/contract-ends",
        data={
            "csrf": csrf,
            "mode": "delete",
            "effective_at": "2026-04-01",
            "reason": "Customer's notice of 2026-02-28",
            "contract_ref": "MSA-1",
            "notify_to": "dpo@customer.example",
            "locale": "fr",
        },
    )
    assert asked.status_code == 303 and asked.headers["location"] == f"{END}?done=end-asked"
    ((_, body),) = posted(services, "dsar.test/v1/contract-ends")
    assert body == {
        "mode": "delete",
        "effective_at": "2026-04-01T00:00:00+00:00",
        "reason": "Customer's notice of 2026-02-28",
        "notify_to": "dpo@customer.example",
        "contract_ref": "MSA-1",
        "locale": "fr",
    }
    page = await client.get(asked.headers["location"])
    assert "another person must confirm it" in page.text and "Waiting for a second person" in page.text
    refused = await client.post(f"{END}/confirm", data={"csrf": csrf})
    assert refused.status_code == 403 and 'role="alert"' in refused.text
    assert "another person must confirm it (four eyes)" in refused.text and "may not confirm it" in refused.text
    assert services.ends[END_ID]["state"] == "requested"
    again = await client.post(
        "/console/contract-ends",
        data={
            "csrf": csrf,
            "mode": "delete",
            "effective_at": "2026-04-01",
            "reason": "again",
            "notify_to": "a@b.example",
        },
    )
    assert again.status_code == 409 and "under way" in again.text


async def test_a_second_person_confirms_then_follows_each_system(
    client: httpx.AsyncClient, services: MoreConsole
) -> None:
    services.ends[END_ID]["requested_by"] = OTHER
    csrf = await as_role(client, services, "admin")
    confirmed = await client.post(f"{END}/confirm", data={"csrf": csrf})
    assert confirmed.status_code == 303 and services.ends[END_ID]["state"] == "confirmed"
    assert "cannot be undone" in (await client.get(confirmed.headers["location"])).text
    services.ends[END_ID] |= {"state": "deleting", "tasks": [an_end_task()]}
    page = await client.get(END)
    assert "Close Paper archive" in page.text and "Cancel it" not in page.text
    short = await client.post(f"{END}/tasks/{END_TASK_ID}/close", data={"csrf": csrf, "outcome": "done"})
    assert short.status_code == 422 and "Give the evidence" in short.text
    closed = await client.post(
        f"{END}/tasks/{END_TASK_ID}/close",
        data={"csrf": csrf, "outcome": "done", "records": "212", "evidence": "Shredded, certificate SHR-14"},
    )
    assert closed.status_code == 303
    ((_, body),) = posted(services, "/close")
    assert body == {"outcome": "done", "records": 212, "evidence": "Shredded, certificate SHR-14"}
    assert "Issued once every system is closed" in (await client.get(END)).text
    gone = await client.get(f"{END}/certificate")
    assert gone.status_code == 404 and "no certificate yet" in gone.text
    services.ends[END_ID] |= {"state": "completed", "certificate_id": "e4f5a6b7-9999-4ca3-9db4-c5d6e7f8091a"}
    assert "Download the signed certificate" in (await client.get(END)).text
    certificate = await client.get(f"{END}/certificate")
    assert certificate.status_code == 200 and "attachment" in certificate.headers["content-disposition"]
    assert json.loads(certificate.text)["jws"] == "eyJ.eyJ.sig"


async def test_a_contract_end_is_cancelled_before_it_starts(client: httpx.AsyncClient, services: MoreConsole) -> None:
    csrf = await as_role(client, services, "dpo")
    cancelled = await client.post(f"{END}/cancel", data={"csrf": csrf})
    assert cancelled.status_code == 303 and services.ends[END_ID]["state"] == "cancelled"
    page = await client.get(cancelled.headers["location"])
    assert "Contract end cancelled." in page.text and "Confirm the contract end" not in page.text
    assert parse_qs(urlsplit(cancelled.headers["location"]).query) == {"done": ["end-cancelled"]}


async def test_home_shows_demands_and_contract_ends_waiting(client: httpx.AsyncClient, services: MoreConsole) -> None:
    deferral = {"id": "x", "reason": "Gag", "instrument": "Ord.", "until": "2026-03-12T00:00:00Z", "ended_at": None}
    services.demands["decided"] = a_demand(
        id="decided", status="refused", authority_reference="OLD-1", notification="deferred", deferrals=[deferral]
    )
    services.demands["done"] = a_demand(id="done", status="closed", authority_reference="OLD-2")
    await as_role(client, services, "dpo")
    home = (await client.get("/console")).text
    assert "Authority demands waiting (2)" in home and f'href="/console/demands/{DEMAND_ID}"' in home
    assert "OLD-1</a>: refused — the deferral of the customer's notice ends 2026-03-12" in home and "OLD-2" not in home
    assert "Contract ends to confirm (1)" in home and "(you: another person confirms)" in home
    await as_role(client, services, "auditor")
    home = (await client.get("/console")).text
    assert "Authority demands waiting (2)" in home and "Contract ends to confirm" not in home
    assert not [u for _, u, _, _ in services.calls if "contract-ends" in u]


async def test_home_without_contract_ends_yet_says_nothing_of_them(
    client: httpx.AsyncClient, services: MoreConsole
) -> None:
    services.ends_api = False  # a DSAR service from before contract ends: 404
    await as_role(client, services, "dpo")
    home = (await client.get("/console")).text
    assert "Contract ends" not in home.replace('href="/console/contract-ends">Contract ends', "")
    assert "could not be read" not in home
    assert [u for _, u, _, _ in services.calls if "contract-ends" in u] == ["http://dsar.test/v1/contract-ends"]
