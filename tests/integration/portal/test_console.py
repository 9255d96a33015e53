"""The console's pages and forms per role, through the ASGI app, with every service faked at the HTTP level.

A role that cannot act sees no button and gets a 403 page when it posts anyway (nothing is sent to the
service); a stranger is sent to sign in; a service's 403 is a clear page.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.portal.api.deps import Session
from services.portal.app import create_app
from shared.rules.clock import ManualClock
from shared.rules.roles import ROLES
from tests.integration.portal.fakes import NOW, REQUEST_ID, a_request, settings
from tests.integration.portal.fakes_console import (
    CHANGE_ID,
    CUSTOMER_ID,
    HOLD_ID,
    IMPORT_ID,
    INCIDENT_ID,
    SUB_ID,
    TASK_ID,
    Console,
    a_notice,
    a_task,
    an_incident,
)
from tests.integration.portal.test_pages import browser, sign_in

GETS = [
    "/console/requests.csv",
    "/console/breaches",
    "/console/breaches.csv",
    "/console/breaches/new",
    f"/console/breaches/{INCIDENT_ID}",
    "/console/subprocessors",
    f"/console/subprocessors/changes/{CHANGE_ID}",
    "/console/retention",
    "/console/consent",
    f"/console/consent/imports/{IMPORT_ID}",
    f"/console/consent/imports/{IMPORT_ID}/rejections.csv",
    "/console/audit",
]
POSTS = [
    "/console/requests/bulk",
    f"/console/requests/{REQUEST_ID}/extend",
    f"/console/requests/{REQUEST_ID}/refuse",
    f"/console/requests/{REQUEST_ID}/tasks/{TASK_ID}/retry",
    f"/console/requests/{REQUEST_ID}/tasks/{TASK_ID}/close",
    "/console/breaches",
    f"/console/breaches/{INCIDENT_ID}/assess",
    f"/console/breaches/{INCIDENT_ID}/notices",
    f"/console/subprocessors/changes/{CHANGE_ID}/objections",
    "/console/retention/holds",
    "/console/retention/default-pack",
    "/console/consent/imports",
]


@pytest.fixture
def services() -> Console:
    return Console()


@pytest.fixture
def app(services: Console) -> FastAPI:
    return create_app(settings(), ManualClock(NOW), transport=httpx.MockTransport(services.handle))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(app) as http:
        yield http


async def as_role(client: httpx.AsyncClient, services: Console, role: str) -> str:
    """Sign in with the scopes of ``role``; the form token."""
    services.person_scopes = " ".join(sorted(ROLES[role]))
    services.calls.clear()  # a second sign-in in one test: only its own token call
    return await sign_in(client, services)


def posted(services: Console, host: str) -> list[tuple[str, Any]]:
    """The POSTs made to one service: (url, body)."""
    return [(u, b) for m, u, _, b in services.calls if m == "POST" and host in u]


@pytest.mark.parametrize("path", GETS)
async def test_a_stranger_is_sent_to_sign_in(client: httpx.AsyncClient, path: str) -> None:
    page = await client.get(path)
    assert page.status_code == 303 and page.headers["location"].startswith("/console/login?next=")


@pytest.mark.parametrize("path", POSTS)
async def test_a_stranger_posting_is_sent_to_sign_in(client: httpx.AsyncClient, services: Console, path: str) -> None:
    page = await client.post(path, data={"csrf": "x", "reasons": "r" * 20})
    assert page.status_code == 303 and page.headers["location"].startswith("/console/login")
    assert [c for c in services.calls if c[0] == "POST"] == []


@pytest.mark.parametrize("path", POSTS)
async def test_an_auditor_gets_a_403_page_on_every_form(
    client: httpx.AsyncClient, services: Console, path: str
) -> None:
    csrf = await as_role(client, services, "auditor")
    page = await client.post(path, data={"csrf": csrf, "action": "extend", "ids": str(REQUEST_ID)})
    assert page.status_code == 403 and "Not allowed" in page.text and "Your role does not allow this" in page.text
    assert [c for c in services.calls if c[0] == "POST" and "identity.test" not in c[1]] == []


@pytest.mark.parametrize("path", POSTS)
async def test_a_forged_form_token_is_refused(client: httpx.AsyncClient, services: Console, path: str) -> None:
    await as_role(client, services, "admin")
    page = await client.post(path, data={"csrf": "forged"})
    assert page.status_code == 403 and "expired" in page.text


@pytest.mark.parametrize("path", [p for p in GETS if not p.endswith("/new")])
async def test_an_auditor_reads_every_page_without_a_button(
    client: httpx.AsyncClient, services: Console, path: str
) -> None:
    services.changes.append(_change())
    await as_role(client, services, "auditor")
    page = await client.get(path)
    assert page.status_code == 200
    assert page.text.count('method="post"') <= 1  # signing out only


async def test_a_service_403_is_a_clear_page(client: httpx.AsyncClient, services: Console) -> None:
    await as_role(client, services, "dpo")
    services.deny = True
    for path in ("/console/breaches", "/console/retention", f"/console/requests/{REQUEST_ID}"):
        page = await client.get(path)
        assert page.status_code == 403 and "Not allowed" in page.text and "lacks the scope" in page.text


async def test_the_queue_filters_by_due_sorts_and_exports_csv(client: httpx.AsyncClient, services: Console) -> None:
    services.requests["a"] = a_request("in_progress", due_days=-1, id="a", type="access")
    services.requests["b"] = a_request("verified", due_days=5, id="b")
    services.requests["c"] = a_request("completed", due_days=-9, id="c")
    await as_role(client, services, "privacy_analyst")
    overdue = await client.get("/console/requests", params={"due": "overdue"})
    assert overdue.status_code == 200 and re.findall(r'href="/console/requests/(\w+)"', overdue.text) == ["a"]
    week = await client.get("/console/requests", params={"due": "7", "sort": "due"})
    assert re.findall(r'href="/console/requests/(\w+)"', week.text) == ["a", "b"]
    assert 'href="/console/requests.csv?due=7&amp;sort=due"' in week.text
    exported = await client.get("/console/requests.csv", params={"due": "7"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["id"] for r in rows] == ["a", "b"] and rows[0]["days_left"] == "-1"
    assert "subject_ref" not in exported.text and "ab" * 32 not in exported.text


async def test_the_queue_pages_a_long_history_the_service_filters(client: httpx.AsyncClient, services: Console) -> None:
    """120 completed requests: 50 a page with links between pages, the filters asked of the service, every one
    of them in the CSV."""
    services.requests.clear()
    for n in range(120):
        received = (NOW - timedelta(minutes=n)).isoformat()  # r000 the newest
        services.requests[f"r{n:03}"] = a_request("completed", id=f"r{n:03}", type="access", received_at=received)
    await as_role(client, services, "privacy_analyst")
    query = {"state": "completed", "type": "access", "jurisdiction": "eu-gdpr", "sort": "received"}
    first = await client.get("/console/requests", params=query)
    shown = re.findall(r'href="/console/requests/(r\d+)"', first.text)
    assert shown == [f"r{n:03}" for n in range(50)] and "on page 1" in first.text
    asked = services.list_params[-1]
    assert asked.get("type") == "access" and asked.get("jurisdiction") == "eu-gdpr" and asked.get("order") == "received"
    assert 'rel="next"' in first.text and 'rel="prev"' not in first.text
    following = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert following is not None and "page=2" in following.group(1) and "type=access" in following.group(1)
    last = await client.get("/console/requests", params=query | {"page": "3"})
    assert re.findall(r'href="/console/requests/(r\d+)"', last.text) == [f"r{n:03}" for n in range(100, 120)]
    assert 'rel="prev"' in last.text and 'rel="next"' not in last.text
    exported = await client.get("/console/requests.csv", params=query)
    assert len(list(csv.DictReader(io.StringIO(exported.text)))) == 120
    none = await client.get("/console/requests", params={"state": "completed", "due": "7"})
    assert none.status_code == 200 and not re.findall(r'href="/console/requests/(r\d+)"', none.text)


async def test_a_dpo_extends_the_selected_requests(client: httpx.AsyncClient, services: Console) -> None:
    other = "6f0c2b7a-8e1d-4c3b-a2f9-1e0d9c8b7a6f"
    services.requests[other] = a_request("in_progress", id=other)
    csrf = await as_role(client, services, "dpo")
    queue = await client.get("/console/requests")
    assert 'name="ids"' in queue.text and 'value="extend"' in queue.text
    empty = await client.post("/console/requests/bulk", data={"csrf": csrf, "action": "extend", "reasons": "x" * 12})
    assert empty.status_code == 422 and "Select at least one request" in empty.text
    done = await client.post(
        "/console/requests/bulk",
        data={"csrf": csrf, "action": "extend", "ids": [str(REQUEST_ID), other], "reasons": "Twelve systems to read"},
    )
    assert done.status_code == 303 and done.headers["location"] == "/console/requests?done=bulk"
    assert len(posted(services, "/extension")) == 2
    assert "Done for the selected requests." in (await client.get(done.headers["location"])).text
    again = await client.post(
        "/console/requests/bulk",
        data={"csrf": csrf, "action": "extend", "ids": [str(REQUEST_ID)], "reasons": "Twelve systems to read"},
    )
    assert again.status_code == 422 and "0 of 1 done" in again.text and "extended already" in again.text


async def test_an_analyst_may_send_codes_in_bulk_but_not_extend(client: httpx.AsyncClient, services: Console) -> None:
    csrf = await as_role(client, services, "privacy_analyst")
    queue = await client.get("/console/requests")
    assert 'value="code"' in queue.text and 'value="extend"' not in queue.text
    sent = await client.post("/console/requests/bulk", data={"csrf": csrf, "action": "code", "ids": str(REQUEST_ID)})
    assert sent.status_code == 303 and len(posted(services, "/verification/code")) == 1
    refused = await client.post(
        "/console/requests/bulk", data={"csrf": csrf, "action": "extend", "ids": str(REQUEST_ID), "reasons": "x" * 20}
    )
    assert refused.status_code == 403 and posted(services, "/extension") == []


async def test_a_dpo_extends_and_refuses_from_the_request_page(client: httpx.AsyncClient, services: Console) -> None:
    csrf = await as_role(client, services, "dpo")
    page = await client.get(f"/console/requests/{REQUEST_ID}")
    assert "Extend the deadline" in page.text and "Refuse the request" in page.text
    assert "one month from receipt" in page.text and "Timeline" in page.text
    extended = await client.post(
        f"/console/requests/{REQUEST_ID}/extend", data={"csrf": csrf, "reasons": "Five systems, twelve years."}
    )
    assert extended.status_code == 303
    after = await client.get(extended.headers["location"])
    assert "Deadline extended" in after.text and "Five systems, twelve years." in after.text
    assert 'action="/console/requests/' + str(REQUEST_ID) + '/extend"' not in after.text  # once only
    bad = await client.post(f"/console/requests/{REQUEST_ID}/refuse", data={"csrf": csrf, "grounds": "bored"})
    assert bad.status_code == 422 and "Choose the grounds" in bad.text and posted(services, "/refusal") == []
    refused = await client.post(
        f"/console/requests/{REQUEST_ID}/refuse",
        data={"csrf": csrf, "grounds": "manifestly_excessive", "reasons": "Third identical request."},
    )
    assert refused.status_code == 303
    ((_, body),) = posted(services, "/refusal")
    assert body == {"grounds": "manifestly_excessive", "reasons": "Third identical request."}


async def test_an_analyst_sees_no_decision_and_cannot_post_one(client: httpx.AsyncClient, services: Console) -> None:
    services.tasks = [a_task("failed")]
    csrf = await as_role(client, services, "privacy_analyst")
    page = await client.get(f"/console/requests/{REQUEST_ID}")
    assert "Extend the deadline" not in page.text and "Refuse the request" not in page.text
    assert "Publish the task again" not in page.text
    for action in ("extend", "refuse", f"tasks/{TASK_ID}/retry", f"tasks/{TASK_ID}/close"):
        refused = await client.post(
            f"/console/requests/{REQUEST_ID}/{action}", data={"csrf": csrf, "reasons": "x" * 20}
        )
        assert refused.status_code == 403
    assert posted(services, "dsar.test") == []


async def test_a_dpo_retries_a_task_and_closes_a_silent_one(client: httpx.AsyncClient, services: Console) -> None:
    services.tasks = [
        a_task("failed"),
        a_task("open", id="11111111-2222-4333-8444-555555555555", escalated_at=NOW.isoformat(), system="billing"),
    ]
    csrf = await as_role(client, services, "dpo")
    page = await client.get(f"/console/requests/{REQUEST_ID}")
    assert "Publish the task again" in page.text and "silent since" in page.text
    assert "Mark the system silent and answer in its place" in page.text
    short = await client.post(f"/console/requests/{REQUEST_ID}/tasks/{TASK_ID}/retry", data={"csrf": csrf})
    assert short.status_code == 422 and posted(services, "/retry") == []
    retried = await client.post(
        f"/console/requests/{REQUEST_ID}/tasks/{TASK_ID}/retry", data={"csrf": csrf, "reason": "CRM back up"}
    )
    assert retried.status_code == 303 and retried.headers["location"].endswith("?done=retried")
    assert posted(services, "/retry") == [(f"http://dsar.test/v1/tasks/{TASK_ID}/retry", {"reason": "CRM back up"})]
    silent = "11111111-2222-4333-8444-555555555555"
    closed = await client.post(
        f"/console/requests/{REQUEST_ID}/tasks/{silent}/close",
        data={
            "csrf": csrf,
            "outcome": "no_data",
            "records_affected": "0",
            "evidence": "Checked by hand",
            "reason": "Billing store never answered",
            "manual": "no",
        },
    )
    assert closed.status_code == 303
    ((_, body),) = posted(services, "/close")
    assert body == {
        "outcome": "no_data",
        "records_affected": 0,
        "evidence": "Checked by hand",
        "reason": "Billing store never answered",
    }


async def test_a_dpo_verifies_by_document_and_is_sent_back(client: httpx.AsyncClient, services: Console) -> None:
    csrf = await as_role(client, services, "dpo")
    missing = await client.post(f"/console/requests/{REQUEST_ID}/verify", data={"csrf": csrf})
    assert missing.status_code == 422 and "reference of the document" in missing.text
    done = await client.post(f"/console/requests/{REQUEST_ID}/verify", data={"csrf": csrf, "evidence_ref": "P-1"})
    assert done.status_code == 303
    assert "Identity verified." in (await client.get(done.headers["location"])).text


async def test_the_breach_register_counts_down_and_exports(client: httpx.AsyncClient, services: Console) -> None:
    await as_role(client, services, "auditor")
    register = await client.get("/console/breaches")
    assert register.status_code == 200 and "BR-2026-1" in register.text
    assert "12 hours left" in register.text and "days-red" in register.text
    assert "Report a breach" not in register.text
    exported = await client.get("/console/breaches.csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows[0]["reference"] == "BR-2026-1" and rows[0]["approximate_subjects"] == "120"
    assert rows[0]["nature"] == "confidentiality"


async def test_the_register_shows_the_timed_clock_beside_one_without_due_time(
    client: httpx.AsyncClient, services: Console
) -> None:
    """An incident whose individuals' clock has no due time ("without undue delay") beside the authority's 72 h."""
    incident = services.incidents[INCIDENT_ID]
    undue = incident["deadlines"][0] | {"audience": "individuals", "recipient": "the people affected", "due_at": None}
    incident["deadlines"].insert(0, undue)
    await as_role(client, services, "auditor")
    register = await client.get("/console/breaches")
    assert register.status_code == 200 and "CNIL: " in register.text and "12 hours left" in register.text


async def test_a_long_register_pages_and_exports_whole(client: httpx.AsyncClient, services: Console) -> None:
    """Fifty incidents a page, newest first; the authority's export has every one, past the service's 500 a call."""
    for n in range(1, 1201):
        aware = (NOW - timedelta(hours=n)).isoformat()
        services.incidents[f"i-{n}"] = an_incident(id=f"i-{n}", reference=f"BR-{n:04d}", aware_at=aware)
    await as_role(client, services, "auditor")
    first = await client.get("/console/breaches")
    assert first.status_code == 200 and first.text.count('<th scope="row">') == 50
    assert "BR-0001" in first.text and "BR-0051" not in first.text and 'rel="prev"' not in first.text
    assert 'href="/console/breaches?page=2" rel="next"' in first.text
    last = await client.get("/console/breaches", params={"page": 25})
    assert "BR-1200" in last.text and 'rel="next"' not in last.text
    assert 'href="/console/breaches?page=24" rel="prev"' in last.text
    filtered = await client.get("/console/breaches", params={"status": "open", "page": 2})
    assert 'href="/console/breaches?status=open&amp;page=3"' in filtered.text
    exported = await client.get("/console/breaches.csv")
    assert len(list(csv.DictReader(io.StringIO(exported.text)))) == 1200 + 1  # and the fixture's own incident


async def test_a_security_lead_reports_a_breach(client: httpx.AsyncClient, services: Console) -> None:
    csrf = await as_role(client, services, "security_lead")
    form = await client.get("/console/breaches/new")
    assert form.status_code == 200 and '<label for="aware_at">' in form.text and 'value="eu-gdpr"' in form.text
    bad = await client.post("/console/breaches", data={"csrf": csrf, "title": "Laptop lost"})
    assert bad.status_code == 422 and "What happened" in bad.text and 'value="Laptop lost"' in bad.text
    assert posted(services, "breach.test") == []
    reported = await client.post(
        "/console/breaches",
        data={
            "csrf": csrf,
            "title": "Laptop lost",
            "description": "Unencrypted laptop stolen from a car.",
            "detected_at": "2026-03-10T07:00",
            "aware_at": "2026-03-10T08:30",
            "nature": "confidentiality",
            "jurisdictions": ["eu-gdpr", "uk-gdpr"],
            "data_categories": "contact, invoices",
            "approximate_subjects": "40",
            "measures_taken": "Laptop wiped remotely\nPasswords reset, all of them",
        },
    )
    assert reported.status_code == 303 and reported.headers["location"].endswith("?done=reported")
    ((_, body),) = posted(services, "breach.test/v1/incidents")
    assert body["aware_at"] == "2026-03-10T08:30:00+00:00" and body["jurisdictions"] == ["eu-gdpr", "uk-gdpr"]
    assert body["data_categories"] == ["contact", "invoices"] and body["approximate_subjects"] == 40
    assert body["reporter"] == "dpo@demo.example"
    assert body["measures_taken"] == ["Laptop wiped remotely", "Passwords reset, all of them"]
    page = await client.get(reported.headers["location"])
    assert "Breach entered in the register" in page.text


async def test_a_dpo_assesses_drafts_and_sends_the_initial_notice(client: httpx.AsyncClient, services: Console) -> None:
    csrf = await as_role(client, services, "dpo")
    page = await client.get(f"/console/breaches/{INCIDENT_ID}")
    assert "Assess severity" in page.text and "GDPR Art. 33(1)" in page.text and "12 hours left" in page.text
    base = f"/console/breaches/{INCIDENT_ID}"
    assessed = await client.post(
        f"{base}/assess",
        data={
            "csrf": csrf,
            "category": "simple",
            "ease_of_identification": "maximum",
            "confidentiality": "unknown_recipients",
            "malicious_intent": "yes",
            "rationale": "Phishing.",
        },
    )
    assert assessed.status_code == 303
    ((_, body),) = posted(services, "/assessments")
    assert body["data_sets"] == [{"category": "simple"}]
    assert body["circumstances"] == {
        "confidentiality": "unknown_recipients",
        "integrity": "none",
        "availability": "none",
        "malicious_intent": True,
    }
    drafted = await client.post(
        f"{base}/notices",
        data={
            "csrf": csrf,
            "kind": "authority",
            "stage": "initial",
            "jurisdiction": "eu-gdpr",
            "to_follow": "approximate_records",
            "reason_to_follow": "Log analysis running.",
        },
    )
    assert drafted.status_code == 303
    ((_, body),) = posted(services, "/notices")
    assert body["to_follow"] == {"approximate_records": "Log analysis running."}
    page = await client.get(base)
    assert "score 1.5" in page.text and "Initial notice to CNIL" in page.text
    assert "To follow: Log analysis running." in page.text and "Approve and send" in page.text
    notice_id = services.notices[0]["id"]
    sent = await client.post(f"{base}/notices/{notice_id}/send", data={"csrf": csrf})
    assert sent.status_code == 303
    after = (await client.get(sent.headers["location"])).text
    assert "Notice sent." in after and "Approve and send" not in after and "Sent 2026-03-10" in after


async def test_subprocessors_change_objection_and_settlement(client: httpx.AsyncClient, services: Console) -> None:
    csrf = await as_role(client, services, "dpo")
    register = await client.get("/console/subprocessors")
    assert "Mailer GmbH" in register.text and "Propose a change" in register.text
    assert "Old Post" in register.text  # the register lists every entry, retired ones too
    changed = register.text.split('id="subprocessor_id"')[1].split("</select>")[0]
    replaced = register.text.split('id="replaces_id"')[1].split("</select>")[0]
    # A change brings in a proposed subprocessor or changes an active one; only an active one is replaced.
    assert "Mailer (active)" in changed and "Relay (proposed)" in changed and "Old Post" not in changed
    assert "Mailer" in replaced and "Relay" not in replaced and "Old Post" not in replaced
    bad = await client.post("/console/subprocessors/changes", data={"csrf": csrf, "kind": "add"})
    assert bad.status_code == 422 and posted(services, "subprocessor.test") == []
    proposed = await client.post(
        "/console/subprocessors/changes",
        data={
            "csrf": csrf,
            "kind": "add",
            "subprocessor_id": SUB_ID,
            "effective_at": "2026-05-01",
            "summary": "Mailer sends our newsletters.",
        },
    )
    assert proposed.status_code == 303 and proposed.headers["location"].startswith(
        f"/console/subprocessors/changes/{CHANGE_ID}"
    )
    ((_, body),) = posted(services, "subprocessor.test/v1/changes")
    assert body["effective_at"] == "2026-05-01T00:00:00+00:00"
    objected = await client.post(
        f"/console/subprocessors/changes/{CHANGE_ID}/objections",
        data={"csrf": csrf, "customer_id": CUSTOMER_ID, "reason": "US transfer"},
    )
    assert objected.status_code == 303
    home = await client.get("/console")
    assert "Subprocessor objections open (1)" in home.text and "US transfer" in home.text
    objection = services.changes[0]["objections"][0]["id"]
    settled = await client.post(
        f"/console/subprocessors/changes/{CHANGE_ID}/objections/{objection}",
        data={"csrf": csrf, "resolution": "alternative_arranged", "note": "EU-only sending"},
    )
    assert settled.status_code == 303
    page = await client.get(settled.headers["location"])
    assert "Acme Corp" in page.text and "An alternative was arranged" in page.text and "EU-only sending" in page.text


async def test_retention_holds_pack_and_sweeps_per_role(client: httpx.AsyncClient, services: Console) -> None:
    services.sweeps = [
        {
            "id": "s1",
            "system": "crm",
            "category": "prospect",
            "action": "delete",
            "cutoff": NOW.isoformat(),
            "policy_version": 1,
            "held_subject_refs": ["x"],
            "held_matters": ["tax-2025"],
            "counts": {"deleted": 12},
            "status": "escalated",
            "requested_by": "job:sweep",
            "requested_at": NOW.isoformat(),
            "escalated_at": NOW.isoformat(),
            "completed_at": None,
        }
    ]
    csrf = await as_role(client, services, "privacy_analyst")
    page = await client.get("/console/retention")
    assert "deleted 12" in page.text and "tax-2025" in page.text and "P3Y" in page.text
    assert "Place a legal hold" not in page.text and "Install the default policy pack" not in page.text
    assert (
        await client.post("/console/retention/holds", data={"csrf": csrf, "matter": "m", "reason": "r"})
    ).status_code == 403
    await client.post("/console/logout")
    csrf = await as_role(client, services, "dpo")
    assert "Retention sweeps escalated (1)" in (await client.get("/console")).text
    empty = await client.post("/console/retention/holds", data={"csrf": csrf, "reason": "Case 12"})
    assert empty.status_code == 422 and "Say what the hold covers" in empty.text
    held = await client.post("/console/retention/holds", data={"csrf": csrf, "matter": "case-12", "reason": "Case 12"})
    assert held.status_code == 303
    assert posted(services, "retention.test/v1/holds") == [
        ("http://retention.test/v1/holds", {"matter": "case-12", "reason": "Case 12"})
    ]
    released = await client.post(
        f"/console/retention/holds/{HOLD_ID}/release", data={"csrf": csrf, "reason": "Settled"}
    )
    assert released.status_code == 303 and "Settled" in (await client.get("/console/retention")).text
    assert (await client.post("/console/retention/default-pack", data={"csrf": csrf})).status_code == 303
    assert (await client.post("/console/retention/sweeps", data={"csrf": csrf})).status_code == 303
    assert posted(services, "/sweeps/run") == [("http://retention.test/v1/sweeps/run", {})]


async def test_consent_purposes_versions_and_an_import(client: httpx.AsyncClient, services: Console) -> None:
    csrf = await as_role(client, services, "dpo")
    page = await client.get("/console/consent")
    assert "Newsletter" in page.text and "v2" in page.text and "Import consents" in page.text
    started = await client.post(
        "/console/consent/imports",
        data={
            "csrf": csrf,
            "format": "csv",
            "source_name": "crm.csv",
            "rows": "subject_kind,subject,purpose,decision,occurred_at\n"
            "email,a@example.com,newsletter,granted,2024-05-01T10:00:00Z",
        },
    )
    assert started.status_code == 303
    rows = [(u, b) for u, b in posted(services, "consent.test/v1/imports") if "/rows" in u]
    assert rows and "offset=0" in rows[0][0] and str(rows[0][1]).startswith("subject_kind,")
    progress = await client.get(started.headers["location"])
    assert (
        "Accepted" in progress.text and "unknown purpose" in progress.text and 'hx-trigger="every 3s"' in progress.text
    )
    await client.post("/console/logout")
    await as_role(client, services, "auditor")
    assert "Import consents" not in (await client.get("/console/consent")).text


async def test_home_shows_breach_clocks_and_notices_to_approve(client: httpx.AsyncClient, services: Console) -> None:
    services.notices.append(a_notice())
    await as_role(client, services, "security_lead")
    home = await client.get("/console")
    assert "Breach clocks running (1)" in home.text and "12 hours left" in home.text
    assert 'hx-select="#clocks-section"' in home.text  # counts down in place, without a reload
    assert "Breach notices to approve (1)" in home.text and f"/console/breaches/{INCIDENT_ID}#notice-" in home.text


async def test_home_lists_the_clocks_due_first_however_many_are_open(
    client: httpx.AsyncClient, services: Console
) -> None:
    """Sixty incidents open: the home shows the twenty due first, the oldest (most urgent) among them."""
    for n in range(1, 61):  # i-60 became known first: its clock falls due first
        aware = (NOW - timedelta(hours=n)).isoformat()
        services.incidents[f"i-{n}"] = an_incident(id=f"i-{n}", reference=f"BR-{n:04d}", aware_at=aware)
        services.incidents[f"i-{n}"]["deadlines"][0]["due_at"] = (NOW + timedelta(hours=72 - n)).isoformat()
    services.notices.append(a_notice(incident_id="i-1"))  # its incident is not among the twenty
    await as_role(client, services, "security_lead")
    home = await client.get("/console")
    assert any("/v1/incidents?" in url and "order=clock" in url for _, url, _, _ in services.calls)
    assert "Breach clocks running (20)" in home.text and "the incidents due first" in home.text
    assert "/console/breaches/i-60" in home.text and '/console/breaches/i-1"' not in home.text
    assert "Breach notices to approve (1)" in home.text and "/console/breaches/i-1#notice-" in home.text


async def test_home_lists_the_fifty_requests_due_first_and_points_to_the_queue(
    client: httpx.AsyncClient, services: Console
) -> None:
    """Sixty requests awaiting verification: the home shows the fifty due first and says the queue has them all."""
    services.requests.clear()
    for n in range(60):  # w00 falls due first
        services.requests[f"w{n:02}"] = a_request(id=f"w{n:02}", due_days=20 + n)
    await as_role(client, services, "dpo")
    home = await client.get("/console")
    assert "Awaiting identity verification (50+)" in home.text
    shown = re.findall(r'href="/console/requests/(w\d+)"', home.text)
    assert shown == [f"w{n:02}" for n in range(50)]
    assert 'href="/console/requests?state=awaiting_verification&amp;sort=due"' in home.text
    services.requests = {k: v for k, v in services.requests.items() if k < "w05"}
    home = await client.get("/console")
    assert "Awaiting identity verification (5)" in home.text and "the queue</a> has every one" not in home.text


def _change() -> dict[str, object]:
    return {
        "id": CHANGE_ID,
        "kind": "add",
        "subprocessor_id": SUB_ID,
        "summary": "s",
        "state": "noticed",
        "effective_at": NOW.isoformat(),
        "affected_customer_ids": [CUSTOMER_ID],
        "notices": [],
        "objections": [],
        "blocking_reasons": [],
        "closed_at": None,
    }


async def test_an_auditor_filters_the_audit_log_and_verifies_the_chain(
    client: httpx.AsyncClient, services: Console
) -> None:
    await as_role(client, services, "auditor")
    page = await client.get(
        "/console/audit",
        params={"service": "breach", "actor": "user:dpo@demo.example", "since": "2026-03-01", "until": "nope"},
    )
    assert page.status_code == 200 and "breach.request.extended" in page.text and "Chain" not in page.text
    ((url, _),) = [(u, b) for m, u, _, b in services.calls if "breach.test/v1/audit" in u]
    assert "actor=user%3Adpo%40demo.example" in url and "since=2026-03-01T00%3A00%3A00%2B00%3A00" in url
    assert "until" not in url
    verified = await client.get("/console/audit", params={"service": "dsar", "verify": "yes"})
    assert "Chain intact" in verified.text and "41 sealed rows walked" in verified.text
    services.chain_broken = True
    broken = await client.get("/console/audit", params={"service": "dsar", "verify": "yes"})
    assert "Chain broken" in broken.text and "seq 2: content does not match" in broken.text


async def test_every_rejected_row_of_an_import_downloads_as_csv(client: httpx.AsyncClient, services: Console) -> None:
    """25,000 rejected rows: the page shows the first 200 and says so; the CSV holds all, read 10,000 at a time."""
    await as_role(client, services, "dpo")
    services.imports[IMPORT_ID] = {
        "id": IMPORT_ID, "format": "csv", "source_name": "crm.csv", "status": "completed", "rows_done": 30_000,
        "accepted": 5_000, "rejected": 25_000, "created_at": NOW.isoformat(), "updated_at": NOW.isoformat(),
        "completed_at": NOW.isoformat(),
    }  # fmt: skip
    page = await client.get(f"/console/consent/imports/{IMPORT_ID}")
    assert "The first 200 of 25000" in page.text and page.text.count("unknown purpose") == 200
    exported = await client.get(f"/console/consent/imports/{IMPORT_ID}/rejections.csv")
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 25_000 and rows[0] == {"line": "2", "field": "purpose", "error": "unknown purpose"}
    assert rows[-1]["line"] == "25001"
    asked = [u for m, u, _, b in services.calls if u.endswith("limit=10000") or "limit=10000" in u]
    assert len(asked) == 3 and "after=20001" in asked[-1]


async def test_the_audit_log_pages_to_older_entries_with_its_filters(
    client: httpx.AsyncClient, services: Console
) -> None:
    """450 entries: 200 a page, newest first; "Older" keeps the filters and asks for what precedes the page."""
    services.audit_entries = 450
    await as_role(client, services, "auditor")
    first = await client.get("/console/audit", params={"service": "breach", "actor": "user:dpo@demo.example"})
    assert first.text.count("breach.request.extended") == 200 and "← Newest" not in first.text
    older = re.search(r'href="([^"]+)" rel="next">Older', first.text)
    assert older is not None and "before=251" in older.group(1) and "actor=user" in older.group(1)
    second = await client.get(older.group(1).replace("&amp;", "&"))
    assert second.text.count("breach.request.extended") == 200 and "← Newest" in second.text
    third = await client.get(re.findall(r'href="([^"]+)" rel="next">Older', second.text)[0].replace("&amp;", "&"))
    assert third.text.count("breach.request.extended") == 50 and "Older →" not in third.text
    asked = [u for m, u, _, b in services.calls if "breach.test/v1/audit" in u]
    assert "before=51" in asked[-1] and "limit=201" in asked[-1]
    assert (await client.get("/console/audit", params={"before": "0"})).status_code == 422


async def test_the_audit_log_offers_only_the_services_a_role_reads(
    client: httpx.AsyncClient, services: Console
) -> None:
    services.person_scopes = "notify:read"
    await sign_in(client, services)
    page = await client.get("/console/audit", params={"service": "dsar"})
    assert page.status_code == 200 and "reads no service" in page.text
    assert not [u for _, u, _, _ in services.calls if "/v1/audit" in u]


NEEDS = {
    "/console/requests/bulk": "dsar:admin",
    f"/console/requests/{REQUEST_ID}/extend": "dsar:admin",
    f"/console/requests/{REQUEST_ID}/refuse": "dsar:admin",
    f"/console/requests/{REQUEST_ID}/tasks/{TASK_ID}/retry": "dsar:admin",
    f"/console/requests/{REQUEST_ID}/tasks/{TASK_ID}/close": "dsar:admin",
    "/console/breaches": "breach:write",
    f"/console/breaches/{INCIDENT_ID}/assess": "breach:write",
    f"/console/breaches/{INCIDENT_ID}/notices": "breach:write",
    f"/console/subprocessors/changes/{CHANGE_ID}/objections": "subprocessor:write",
    "/console/retention/holds": "retention:write",
    "/console/retention/default-pack": "retention:admin",
    "/console/consent/imports": "consent:admin",
}


@pytest.mark.parametrize("role", sorted(ROLES))
async def test_each_role_may_post_exactly_what_its_scopes_give(
    client: httpx.AsyncClient, services: Console, role: str
) -> None:
    assert set(NEEDS) == set(POSTS)
    services.changes.append(_change())
    csrf = await as_role(client, services, role)
    session = Session(sid="s", token="t", tenant="demo", email="", name=None, scopes=frozenset(ROLES[role]), csrf="")
    for path, scope in NEEDS.items():
        answer = await client.post(path, data={"csrf": csrf, "action": "extend", "manual": "no"})
        allowed = session.may(scope)
        assert (answer.status_code == 403) is not allowed, (role, path, answer.status_code)
        assert answer.status_code in ((303, 422) if allowed else (403,)), (role, path, answer.status_code)
