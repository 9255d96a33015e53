"""The console's notices to people, per role: a breach's notice to individuals (approval, deliveries, public
communication, the people's addresses), a new consent notice version and its campaign, portability transfers.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from services.portal.api.deps import Session
from services.portal.app import create_app
from shared.rules.clock import ManualClock
from shared.rules.roles import ROLES
from tests.integration.portal.fakes import NOW, REQUEST_ID, a_request, settings
from tests.integration.portal.fakes_console import INCIDENT_ID, a_notice
from tests.integration.portal.fakes_console_more import (
    DEMAND_ID,
    END_ID,
    OTHER,
    SUBJECT_REF,
    PeopleConsole,
    a_campaign,
    a_contract_end,
    a_transfer,
    an_end_task,
)
from tests.integration.portal.test_console import as_role, posted
from tests.integration.portal.test_pages import browser

NOTICE_ID = "e5f6a7b8-aaaa-4bcd-8ef0-123456789abc"
INCIDENT = f"/console/breaches/{INCIDENT_ID}"
NEEDS = {
    f"{INCIDENT}/affected-contacts": "breach:write",
    f"{INCIDENT}/notices/{NOTICE_ID}/approval-request": "breach:write",
    f"{INCIDENT}/notices/{NOTICE_ID}/approval": "breach:write",
    f"{INCIDENT}/notices/{NOTICE_ID}/public-communication": "breach:write",
    "/console/consent/notices": "consent:admin",
}
BODIES = {"en": "We lost your email address.\nChange your password.", "fr": "Nous avons perdu votre adresse."}


def individuals_notice(**changes: object) -> dict[str, object]:
    return (
        a_notice(
            id=NOTICE_ID,
            kind="individuals",
            stage="final",
            jurisdiction=None,
            recipient="the people affected",
            bodies=BODIES,
            approval_status="pending",
            public_communication=None,
        )
        | changes
    )


@pytest.fixture
def services() -> PeopleConsole:
    return PeopleConsole(notices=[individuals_notice()])


@pytest.fixture
def app(services: PeopleConsole) -> FastAPI:
    return create_app(settings(), ManualClock(NOW), transport=httpx.MockTransport(services.handle))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(app) as http:
        yield http


def may(role: str, scope: str) -> bool:
    return Session("s", "t", "demo", "", None, frozenset(ROLES[role]), "").may(scope)


@pytest.mark.parametrize("path", list(NEEDS))
async def test_a_stranger_or_a_forged_form_posts_nothing(
    client: httpx.AsyncClient, services: PeopleConsole, path: str
) -> None:
    page = await client.post(path, data={"csrf": "x"})
    assert page.status_code == 303 and page.headers["location"].startswith("/console/login")
    await as_role(client, services, "admin")
    assert (await client.post(path, data={"csrf": "forged"})).status_code == 403
    assert [u for m, u, _, _ in services.calls if m == "POST" and "/oauth/" not in u] == []


async def test_a_stranger_is_sent_to_sign_in_from_a_campaign(client: httpx.AsyncClient) -> None:
    page = await client.get("/console/consent/purposes/newsletter/notices/2")
    assert page.status_code == 303 and page.headers["location"].startswith("/console/login?next=")


@pytest.mark.parametrize("role", sorted(ROLES))
async def test_each_role_sees_and_posts_exactly_what_its_scopes_give(
    client: httpx.AsyncClient, services: PeopleConsole, role: str
) -> None:
    csrf = await as_role(client, services, role)
    incident = (await client.get(INCIDENT)).text
    assert ("Ask the customer to approve" in incident) is may(role, "breach:write")
    assert ("Add the people affected" in incident) is may(role, "breach:write")
    assert "We lost your email address." in incident  # everyone reads what the people receive
    consent = (await client.get("/console/consent")).text
    assert ("Publish a new notice version" in consent) is may(role, "consent:admin")
    for path, scope in NEEDS.items():
        answer = await client.post(path, data={"csrf": csrf})
        allowed = may(role, scope)
        assert answer.status_code in ((303, 409, 422) if allowed else (403,)), (role, path, answer.status_code)
        if not allowed:
            assert "Your role does not allow this" in answer.text
    if not any(may(role, s) for s in NEEDS.values()):
        assert [u for m, u, _, _ in services.calls if m == "POST" and "/oauth/" not in u] == []


async def test_the_notice_to_individuals_shows_both_languages_and_its_approval(
    client: httpx.AsyncClient, services: PeopleConsole
) -> None:
    csrf = await as_role(client, services, "security_lead")
    page = await client.get(INCIDENT)
    assert (
        '<dt lang="en">English</dt>' in page.text and '<dd lang="fr">Nous avons perdu votre adresse.</dd>' in page.text
    )
    assert "Status: <strong>pending</strong>" in page.text and "Approve and send" not in page.text
    asked = await client.post(f"{INCIDENT}/notices/{NOTICE_ID}/approval-request", data={"csrf": csrf})
    assert asked.status_code == 303 and asked.headers["location"] == f"{INCIDENT}?done=approval-asked"
    assert posted(services, "/approval-request") == [
        (f"http://breach.test/v1/notices/{NOTICE_ID}/approval-request", None)
    ]
    page = await client.get(asked.headers["location"])
    assert (
        "Approval asked of the customer by mail." in page.text and "link mailed: pending (mail requested)" in page.text
    )
    declined = await client.post(
        f"{INCIDENT}/notices/{NOTICE_ID}/approval",
        data={"csrf": csrf, "decision": "declined", "name": "Grace Hopper", "means": "Phone call, ticket SEC-118"},
    )
    assert declined.status_code == 422 and "reason the customer declined" in declined.text
    assert not [u for u, _ in posted(services, "/approval") if u.endswith("/approval")]
    approved = await client.post(
        f"{INCIDENT}/notices/{NOTICE_ID}/approval",
        data={
            "csrf": csrf,
            "decision": "approved",
            "name": "Grace Hopper",
            "email": "privacy@globex.example",
            "means": "Signed approval, ticket SEC-118",
            "received_at": "2026-03-10T08:15",
        },
    )
    assert approved.status_code == 303
    ((_, body),) = [(u, b) for u, b in posted(services, "/approval") if u.endswith("/approval")]
    assert body == {
        "decision": "approved",
        "name": "Grace Hopper",
        "means": "Signed approval, ticket SEC-118",
        "email": "privacy@globex.example",
        "received_at": "2026-03-10T08:15:00+00:00",
    }
    page = await client.get(INCIDENT)
    assert "Status: <strong>approved</strong>" in page.text and "Approve and send" in page.text
    again = await client.post(f"{INCIDENT}/notices/{NOTICE_ID}/approval-request", data={"csrf": csrf})
    assert again.status_code == 409 and 'role="alert"' in again.text and "already approved" in again.text


async def test_a_sent_notice_counts_its_deliveries(client: httpx.AsyncClient, services: PeopleConsole) -> None:
    services.notices[0] |= {"status": "sent", "approval_status": None, "deliveries": [{"channel": "email"}] * 120}
    await as_role(client, services, "auditor")
    page = await client.get(INCIDENT)
    assert f'id="deliveries-{NOTICE_ID}">120 people: 118 delivered, 2 failed — all ended.' in page.text
    assert "Delivery by email" not in page.text and "The customer&#39;s approval" not in page.text
    assert not [u for _, u, _, _ in services.calls if u.endswith("/approvals")]


async def test_a_public_communication_is_recorded(client: httpx.AsyncClient, services: PeopleConsole) -> None:
    csrf = await as_role(client, services, "dpo")
    bad = await client.post(
        f"{INCIDENT}/notices/{NOTICE_ID}/public-communication", data={"csrf": csrf, "channel": "website", "url": "x"}
    )
    assert bad.status_code == 422 and "disproportionate effort" in bad.text and "web address" in bad.text
    done = await client.post(
        f"{INCIDENT}/notices/{NOTICE_ID}/public-communication",
        data={
            "csrf": csrf,
            "channel": "website",
            "url": "https://example.com/security-notice",
            "published_at": "2026-03-10T08:00",
            "text": "On 2 March we found…",
            "reason": "No address for 40,000 former customers.",
        },
    )
    assert done.status_code == 303
    ((_, body),) = posted(services, "/public-communication")
    assert body["published_at"] == "2026-03-10T08:00:00+00:00" and body["url"] == "https://example.com/security-notice"
    page = await client.get(done.headers["location"])
    assert "Public communication recorded." in page.text and "Why: No address for 40,000" in page.text


async def test_people_are_added_from_pasted_csv_lines(client: httpx.AsyncClient, services: PeopleConsole) -> None:
    csrf = await as_role(client, services, "dpo")
    bad = await client.post(
        f"{INCIDENT}/affected-contacts", data={"csrf": csrf, "contacts": "ada@example.com\nnot-an-email,Bob"}
    )
    assert bad.status_code == 422 and "Line 2" in bad.text and services.contacts == []
    added = await client.post(
        f"{INCIDENT}/affected-contacts",
        data={"csrf": csrf, "contacts": 'email,name,locale\nada@example.com,"Lovelace, Ada",FR\n\nbob@example.com'},
    )
    assert added.status_code == 303 and added.headers["location"].endswith("?done=people")
    assert services.contacts == [
        {"email": "ada@example.com", "name": "Lovelace, Ada", "locale": "fr"},
        {"email": "bob@example.com"},
    ]


async def test_a_notice_version_is_published_with_its_text(client: httpx.AsyncClient, services: PeopleConsole) -> None:
    csrf = await as_role(client, services, "dpo")
    page = await client.get("/console/consent")
    assert '<label for="notice-text">Full text</label>' in page.text and "No material change published." in page.text
    vague = await client.post(
        "/console/consent/notices", data={"csrf": csrf, "purpose": "newsletter", "text": "New text", "material": "yes"}
    )
    assert vague.status_code == 422 and "Say what changed" in vague.text and services.published == []
    unknown = await client.post("/console/consent/notices", data={"csrf": csrf, "purpose": "nope", "text": "T"})
    assert unknown.status_code == 404 and "No such purpose." in unknown.text
    published = await client.post(
        "/console/consent/notices",
        data={
            "csrf": csrf,
            "purpose": "newsletter",
            "title": "Newsletter",
            "text": "We send our newsletter monthly.\nUnsubscribe any time.",
            "summary": "Monthly instead of weekly.",
            "language": "fr",
            "material": "yes",
            "requires_renewal": "no",
        },
    )
    assert published.status_code == 303 and published.headers["location"] == "/console/consent?done=notice-version"
    assert services.published == [
        {
            "text": "We send our newsletter monthly.\nUnsubscribe any time.",
            "language": "fr",
            "material": True,
            "title": "Newsletter",
            "summary": "Monthly instead of weekly.",
            "requires_renewal": False,
        }
    ]
    assert "Notice version published." in (await client.get(published.headers["location"])).text


async def test_each_material_change_shows_who_was_told(client: httpx.AsyncClient, services: PeopleConsole) -> None:
    notice = {"purpose": "newsletter", "version": 2, "material": True, "language": "en", "url": None}
    services.newsletter_notices = [notice | {"version": 1, "material": False}, notice]
    services.campaigns["newsletter/2"] = a_campaign()
    await as_role(client, services, "privacy_analyst")
    page = await client.get("/console/consent")
    assert page.status_code == 200 and 'href="/console/consent/purposes/newsletter/notices/2"' in page.text
    assert "<td>40</td><td>31</td><td>27</td>" in page.text and '<span class="bad-text">3</span>' in page.text
    assert [u for _, u, _, _ in services.calls if "/campaign" in u] == [
        "http://consent.test/v1/purposes/newsletter/notices/2/campaign"
    ]  # only the material version
    detail = await client.get("/console/consent/purposes/newsletter/notices/2")
    assert detail.status_code == 200 and "(consent asked again)" not in detail.text
    assert "<dt>Unreachable</dt><dd>6" in detail.text and "mailbox full" in detail.text
    assert f"?after={SUBJECT_REF}" in detail.text and "ada@" not in detail.text
    last = await client.get("/console/consent/purposes/newsletter/notices/2", params={"after": SUBJECT_REF})
    assert "Next people" not in last.text and services.params["after"] == SUBJECT_REF
    missing = await client.get("/console/consent/purposes/newsletter/notices/1")
    assert missing.status_code == 404 and "not a material change" in missing.text
    assert (await client.get("/console/consent/purposes/Bad Key/notices/1")).status_code == 422


async def test_a_portability_request_shows_its_transfers(client: httpx.AsyncClient, services: PeopleConsole) -> None:
    services.requests[str(REQUEST_ID)] = a_request("completed", type="portability")
    services.transfers = [a_transfer("delivered"), a_transfer("failed", controller="Oldbank")]
    await as_role(client, services, "auditor")
    page = await client.get(f"/console/requests/{REQUEST_ID}")
    assert "To Newbank SA — Delivered: the receiver acknowledged it" in page.text
    assert "receipt <code>RCPT-77</code>" in page.text and "(HTTP 202)" in page.text
    assert "To Oldbank — Failed" in page.text and "the receiver answered 503 five times" in page.text
    assert "no answer: connection refused" in page.text and "Attempts</dt><dd>2" in page.text


async def test_other_requests_do_not_ask_for_transfers(client: httpx.AsyncClient, services: PeopleConsole) -> None:
    await as_role(client, services, "dpo")
    page = await client.get(f"/console/requests/{REQUEST_ID}")
    assert page.status_code == 200 and "another controller" not in page.text
    assert not [u for _, u, _, _ in services.calls if u.endswith("/transfers")]


def unlabelled(html: str) -> list[str]:
    """The form fields of a page without a label of their own, and the ids used twice."""
    ids = re.findall(r'\sid="([^"]+)"', html)
    labels = set(re.findall(r'<label for="([^"]+)"', html))
    missing = []
    for attrs in re.findall(r"<(?:input|select|textarea)\b([^>]*)>", html):
        found = re.search(r'\sid="([^"]+)"', attrs)
        if 'type="hidden"' not in attrs and (found is None or found.group(1) not in labels):
            missing.append(attrs)
    return missing + sorted({i for i in ids if ids.count(i) > 1})


async def test_every_field_of_the_new_pages_has_its_label(client: httpx.AsyncClient, services: PeopleConsole) -> None:
    services.notices.append(individuals_notice(id="f6a7b8c9-bbbb-4cde-8f01-23456789abcd"))
    services.requests[str(REQUEST_ID)] = a_request("completed", type="portability")
    services.transfers = [a_transfer("delivered")]
    services.demands[DEMAND_ID] |= {"status": "partially_disclosed", "recorded_by": OTHER}
    services.ends[END_ID] = a_contract_end(state="deleting", tasks=[an_end_task()])
    await as_role(client, services, "admin")
    pages = [
        INCIDENT,
        "/console/consent",
        f"/console/requests/{REQUEST_ID}",
        "/console/demands",
        "/console/demands/new",
        f"/console/demands/{DEMAND_ID}",
        "/console/evidence",
        "/console/contract-ends",
        f"/console/contract-ends/{END_ID}",
    ]
    for path in pages:
        page = await client.get(path)
        assert page.status_code == 200 and unlabelled(page.text) == [], path
