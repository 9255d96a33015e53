"""Every page of the portal, through the ASGI app, with the services faked at the HTTP level."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from services.portal.app import create_app
from shared.rules.clock import ManualClock
from tests.integration.portal.fakes import NOW, REQUEST_ID, Services, a_request, settings
from tests.integration.portal.support import browser, client, csrf_of

__all__ = ["client"]  # the fixture, over this module's app


@dataclass
class PerSubject(Services):
    """The fake services, with the consent service keeping each subject's grants apart."""

    grants: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def _consent(self, method: str, path: str, body: Any) -> httpx.Response:
        if isinstance(body, dict) and isinstance(body.get("subject"), dict):
            subject = body["subject"]
            self.granted = self.grants.setdefault((subject["kind"], subject["value"]), set())
        return super()._consent(method, path, body)


@pytest.fixture
def services() -> PerSubject:
    return PerSubject()


@pytest.fixture
def app(services: Services) -> FastAPI:
    return create_app(settings(), ManualClock(NOW), transport=httpx.MockTransport(services.handle))


async def test_the_center_home_names_the_tenant_and_offers_six_rights(client: httpx.AsyncClient) -> None:
    page = await client.get("/p/demo")
    assert page.status_code == 200
    assert "Démo SAS" in page.text
    assert len(re.findall(r'href="/p/demo/requests/new\?type=', page.text)) == 6
    assert '<a class="skip" href="#main">' in page.text and "/static/htmx.min.js" in page.text


async def test_static_files_are_served(client: httpx.AsyncClient) -> None:
    assert (await client.get("/static/htmx.min.js")).status_code == 200
    assert "focus-visible" in (await client.get("/static/portal.css")).text


async def test_a_malformed_tenant_is_a_404_page(client: httpx.AsyncClient) -> None:
    page = await client.get("/p/Not_A_Tenant!")
    assert page.status_code == 404 and "no privacy center" in page.text


@pytest.mark.parametrize(
    ("right", "field"),
    [
        ("access", None),
        ("rectification", "field_1"),
        ("erasure", None),
        ("restriction", None),
        ("portability", "target_controller"),
        ("objection", "purpose-newsletter"),
    ],
)
async def test_each_right_has_its_form(client: httpx.AsyncClient, right: str, field: str | None) -> None:
    page = await client.get("/p/demo/requests/new", params={"type": right})
    assert page.status_code == 200
    assert f'name="type" value="{right}"' in page.text
    assert '<label for="email">' in page.text and 'value="eu-gdpr"' in page.text and 'value="jp-appi"' in page.text
    if field:
        assert f'id="{field}"' in page.text
    assert (await client.get("/p/demo/requests/new", params={"type": "lift_restriction"})).status_code == 404


async def test_filing_an_erasure_leads_to_the_code_page_then_to_the_status(
    client: httpx.AsyncClient, services: Services
) -> None:
    csrf = csrf_of(await client.get("/p/demo/requests/new?type=erasure"))
    form = {"type": "erasure", "email": "ada@example.com", "jurisdiction": "eu-gdpr", "idempotency_key": "k-1"}
    filed = await client.post("/p/demo/requests", data=form | {"csrf": csrf}, headers={"Accept-Language": "fr-FR,fr"})
    assert filed.status_code == 303
    ((headers, body),) = services.sent("POST", "dsar.test/v1/requests")
    assert body["type"] == "erasure" and body["identifiers"] == [{"kind": "email", "value": "ada@example.com"}]
    assert body["locale"] == "fr" and headers["idempotency-key"] == "k-1"
    assert headers["authorization"].startswith("Bearer ")
    ticket_url = filed.headers["location"]
    page = await client.get(ticket_url)
    assert page.status_code == 200 and "Waiting for you to confirm your email" in page.text
    assert 'autocomplete="one-time-code"' in page.text
    wrong = await client.post(ticket_url + "/code", data={"code": "000000", "csrf": csrf_of(page)})
    assert wrong.status_code == 422 and "4 attempts left" in wrong.text
    right = await client.post(ticket_url + "/code", data={"code": "123 456", "csrf": csrf_of(page)})
    assert right.status_code == 303 and right.headers["location"] == ticket_url
    status = await client.get(ticket_url)
    assert "In progress" in status.text and "We must answer by" in status.text
    assert NOW.date().replace(day=30).isoformat() in status.text


async def test_a_bad_form_is_shown_again_with_the_reasons(client: httpx.AsyncClient, services: Services) -> None:
    csrf = csrf_of(await client.get("/p/demo/requests/new"))
    bad = await client.post(
        "/p/demo/requests", data={"type": "erasure", "email": "nope", "jurisdiction": "eu-gdpr", "csrf": csrf}
    )
    assert bad.status_code == 422 and 'href="#email"' in bad.text and 'value="nope"' in bad.text
    refused = await client.post(
        "/p/demo/requests",
        data={"type": "restriction", "email": "a@example.com", "jurisdiction": "us-ca-ccpa", "csrf": csrf},
    )
    assert refused.status_code == 422 and "no right of restriction" in refused.text
    assert len(services.sent("POST", "dsar.test/v1/requests")) == 1  # only the one the service refused


async def test_a_forged_or_foreign_ticket_opens_nothing(client: httpx.AsyncClient) -> None:
    assert (await client.get("/p/demo/requests/not-a-ticket")).status_code == 404
    filed = await client.post(
        "/p/demo/requests",
        data={"type": "access", "email": "a@example.com", "jurisdiction": "eu-gdpr"},
        headers={"Origin": "http://portal.test"},
    )
    ticket = filed.headers["location"].rsplit("/", 1)[1]
    assert (await client.get(f"/p/globex/requests/{ticket}")).status_code == 404


def consent_subjects(services: Services) -> list[dict[str, str]]:
    """The subjects of every call made to the consent service that names one."""
    return [
        b["subject"]
        for _, url, _, b in services.calls
        if "consent.test" in url and isinstance(b, dict) and "subject" in b
    ]


async def test_the_first_visit_sets_a_browser_cookie_and_shows_its_choices(
    client: httpx.AsyncClient, services: Services
) -> None:
    page = await client.get("/p/demo/consent")
    assert page.status_code == 200 and "Our news, once a month." in page.text and "Notice version 2" in page.text
    assert "Global Privacy Control" not in page.text and 'name="email"' not in page.text
    cookie = page.headers["set-cookie"]
    visitor = page.cookies["privops_visitor"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", visitor)
    assert "Path=/p/demo;" in cookie + ";" and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert f"Max-Age={395 * 86400}" in cookie and "Secure" not in cookie
    assert consent_subjects(services) == [{"kind": "cookie_id", "value": visitor}]  # the check of its choices
    assert 'value="granted"' in page.text and "Not allowed" in page.text
    assert "These choices are kept for this browser." in page.text
    assert 'href="/p/demo/requests/new?type=access"' in page.text
    assert 'href="/p/demo/requests/new?type=objection"' in page.text
    again = await client.get("/p/demo/consent")
    assert "set-cookie" not in again.headers  # set once, never extended by a later visit
    assert consent_subjects(services)[-1] == {"kind": "cookie_id", "value": visitor}


async def test_the_cookie_is_secure_over_https(app: FastAPI) -> None:
    async with browser(app, "https://portal.test") as https:
        page = await https.get("/p/demo/consent")
    assert page.status_code == 200 and "Secure" in page.headers["set-cookie"]


async def test_consent_is_given_and_withdrawn_in_one_click_for_this_browser(
    client: httpx.AsyncClient, services: Services
) -> None:
    page = await client.get("/p/demo/consent")
    visitor, csrf = page.cookies["privops_visitor"], csrf_of(page)
    given = await client.post(
        "/p/demo/consent",
        data={"purpose": "newsletter", "decision": "granted", "csrf": csrf, "email": "ada@example.com"},
    )
    assert given.status_code == 200 and "Consent given" in given.text and 'value="withdrawn"' in given.text
    assert "Withdraw consent" in (await client.get("/p/demo/consent")).text  # read back for this browser
    withdrawn = await client.post(
        "/p/demo/consent",
        data={"purpose": "newsletter", "decision": "withdrawn", "csrf": csrf},
        headers={"HX-Request": "true", "Origin": "http://portal.test"},
    )
    assert "Consent withdrawn" in withdrawn.text and "<html" not in withdrawn.text  # htmx: the list only
    recorded = services.sent("POST", "consent.test/v1/consents")
    assert [b["decision"] for _, b in recorded] == ["granted", "withdrawn"]
    assert all(b["subject"] == {"kind": "cookie_id", "value": visitor} for _, b in recorded)
    assert {s["kind"] for s in consent_subjects(services)} == {"cookie_id"}  # never the email sent along
    assert recorded[0][1]["proof"]["ip"] == "203.0.113.7" and recorded[0][1]["collector"] == "privacy-center"


async def test_another_browser_does_not_see_the_first_ones_choices(
    app: FastAPI, client: httpx.AsyncClient, services: Services
) -> None:
    page = await client.get("/p/demo/consent")
    await client.post("/p/demo/consent", data={"purpose": "newsletter", "decision": "granted", "csrf": csrf_of(page)})
    assert "Withdraw consent" in (await client.get("/p/demo/consent")).text
    async with browser(app) as other:
        theirs = await other.get("/p/demo/consent")
        assert theirs.cookies["privops_visitor"] != page.cookies["privops_visitor"]
        assert "Withdraw consent" not in theirs.text and "Give consent" in theirs.text
        foreign = await other.post(
            "/p/demo/consent", data={"purpose": "newsletter", "decision": "withdrawn", "csrf": csrf_of(page)}
        )
        assert foreign.status_code == 403  # the first browser's form token is not this browser's
    assert "Withdraw consent" in (await client.get("/p/demo/consent")).text


async def test_a_post_without_the_cookie_gets_one_when_it_comes_from_this_site(
    client: httpx.AsyncClient, services: Services
) -> None:
    posted = await client.post(
        "/p/demo/consent",
        data={"purpose": "newsletter", "decision": "granted"},
        headers={"Origin": "http://portal.test"},
    )
    assert posted.status_code == 200 and "Consent given" in posted.text
    visitor = posted.cookies["privops_visitor"]
    ((_, body),) = services.sent("POST", "consent.test/v1/consents")
    assert body["subject"] == {"kind": "cookie_id", "value": visitor}
    referred = await client.post(  # the next form of the page, now with the cookie and its token
        "/p/demo/consent",
        data={"purpose": "newsletter", "decision": "withdrawn", "csrf": csrf_of(posted)},
        headers={"Referer": "http://portal.test/p/demo/consent"},
    )
    assert referred.status_code == 200 and "set-cookie" not in referred.headers


@pytest.mark.parametrize(
    ("cookie", "csrf", "headers"),
    [
        (False, None, {"Origin": "https://evil.example"}),
        (False, None, {"Referer": "https://evil.example/page"}),
        (False, None, {}),
        (True, "forged", {}),
        (True, None, {}),
        (True, "ok", {"Origin": "https://evil.example"}),
    ],
)
async def test_a_cross_site_consent_post_is_refused(
    client: httpx.AsyncClient, services: Services, cookie: bool, csrf: str | None, headers: dict[str, str]
) -> None:
    form = {"purpose": "newsletter", "decision": "granted"}
    if cookie:
        page = await client.get("/p/demo/consent")
        form |= {"csrf": csrf_of(page) if csrf == "ok" else csrf or ""}
    refused = await client.post("/p/demo/consent", data=form, headers=headers)
    assert refused.status_code == 403 and "another site" in refused.text
    assert "set-cookie" not in refused.headers
    assert services.sent("POST", "consent.test/v1/consents") == []


@pytest.mark.parametrize(
    ("purpose", "decision"), [("profiling", "granted"), ("newsletter", "sold"), ("", ""), ("newsletter", "")]
)
async def test_a_bad_consent_choice_is_a_422_and_changes_nothing(
    client: httpx.AsyncClient, services: Services, purpose: str, decision: str
) -> None:
    page = await client.get("/p/demo/consent")
    bad = await client.post("/p/demo/consent", data={"purpose": purpose, "decision": decision, "csrf": csrf_of(page)})
    assert bad.status_code == 422 and 'id="errors"' in bad.text and "Newsletter" in bad.text
    assert services.sent("POST", "consent.test/v1/consents") == []


async def test_a_gpc_browser_is_honoured_and_told_so(client: httpx.AsyncClient, services: Services) -> None:
    page = await client.get("/p/demo/consent", headers={"Sec-GPC": "1"})
    assert "Global Privacy Control honoured" in page.text and "opt-out of: targeted_ads" in page.text
    visitor = page.cookies["privops_visitor"]
    ((headers, body),) = services.sent("POST", "consent.test/v1/gpc")
    assert headers["sec-gpc"] == "1" and body["subject"] == {"kind": "cookie_id", "value": visitor}
    given = await client.post(
        "/p/demo/consent",
        data={"purpose": "newsletter", "decision": "granted", "csrf": csrf_of(page)},
        headers={"Sec-GPC": "1"},
    )
    assert "Global Privacy Control honoured" in given.text and "Consent given" in given.text
    assert [b["subject"]["value"] for _, b in services.sent("POST", "consent.test/v1/gpc")] == [visitor, visitor]


async def test_the_subprocessor_list_shows_locations_safeguards_and_the_feed(client: httpx.AsyncClient) -> None:
    page = await client.get("/p/demo/subprocessors")
    assert page.status_code == 200 and "Mailer GmbH" in page.text and "US (scc)" in page.text
    assert 'href="/p/demo/subprocessors.atom"' in page.text


@pytest.mark.parametrize("path", ["/console", "/console/requests", f"/console/requests/{REQUEST_ID}"])
async def test_console_pages_send_a_stranger_to_sign_in(client: httpx.AsyncClient, path: str) -> None:
    page = await client.get(path)
    assert page.status_code == 303 and page.headers["location"].startswith("/console/login?next=")
    client.cookies.set("portal_session", "forged")
    assert (await client.get(path)).status_code == 303
    post = await client.post(f"/console/requests/{REQUEST_ID}/verify", data={"evidence_ref": "x"})
    assert post.status_code == 303


async def sign_in(client: httpx.AsyncClient, services: Services) -> str:
    """Sign in through the fake identity service; the console's CSRF token."""
    login = await client.get("/console/login", params={"next": "/console/requests"})
    assert login.status_code == 303
    sent = parse_qs(urlsplit(login.headers["location"]).query)
    assert login.headers["location"].startswith("http://identity.test/authorize?")
    assert sent["code_challenge_method"] == ["S256"] and sent["client_id"] == ["portal-console"]
    assert sent["redirect_uri"] == ["http://portal.test/console/callback"]
    services.nonce = sent["nonce"][0]
    back = await client.get("/console/callback", params={"code": "c-1", "state": sent["state"][0]})
    assert back.status_code == 303 and back.headers["location"] == "/console/requests"
    ((_, body),) = services.sent("POST", "identity.test/oauth/token")
    assert "grant_type=authorization_code" in body and "code_verifier=" in body
    page = await client.get(f"/console/requests/{REQUEST_ID}")
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    return match.group(1) if match else ""


async def test_a_callback_with_a_wrong_state_signs_nobody_in(client: httpx.AsyncClient, services: Services) -> None:
    await client.get("/console/login")
    back = await client.get("/console/callback", params={"code": "c-1", "state": "forged"})
    assert back.status_code == 400 and "portal_session" not in back.cookies
    assert services.sent("POST", "identity.test/oauth/token") == []


async def test_the_console_home_shows_what_needs_a_person(client: httpx.AsyncClient, services: Services) -> None:
    services.requests["a"] = a_request("in_progress", due_days=-2, id="a")
    services.requests["b"] = a_request("verified", due_days=5, id="b")
    services.requests["later"] = a_request("verified", due_days=30, id="later")
    services.tasks = [
        {
            "request_id": "a",
            "system": "crm",
            "action": "erase",
            "state": "closed",
            "outcome": "failed",
            "error": "timeout",
            "escalated_at": None,
        }
    ]
    await sign_in(client, services)
    home = await client.get("/console")
    assert home.status_code == 200
    assert "2 days overdue" in home.text and "days-red" in home.text and "days-amber" in home.text
    assert "Awaiting identity verification (1)" in home.text and "crm · erase" in home.text
    person_calls = services.sent("GET", "dsar.test/v1/requests")
    assert all(h["authorization"] != "" for h, _ in person_calls)
    # Asked for what falls due within the week (urgent first), so a long queue cannot push it out of the list.
    assert 'href="/console/requests/later"' not in home.text and 'href="/console/requests/b"' in home.text


async def test_the_queue_filters_by_state_type_and_jurisdiction(client: httpx.AsyncClient, services: Services) -> None:
    services.requests["c"] = a_request("verified", id="c", type="access", jurisdiction="uk-gdpr")
    services.requests["d"] = a_request("completed", id="d")
    await sign_in(client, services)
    to_answer = await client.get("/console/requests")  # opens on the requests still to answer
    assert to_answer.status_code == 200 and to_answer.text.count('href="/console/requests/') == 2
    assert 'value="open" selected' in to_answer.text and 'href="/console/requests/d"' not in to_answer.text
    everything = await client.get("/console/requests", params={"state": ""})
    assert everything.text.count('href="/console/requests/') == 3
    done = await client.get("/console/requests", params={"state": "completed"})
    assert done.text.count('href="/console/requests/') == 1 and 'href="/console/requests/d"' in done.text
    access = await client.get("/console/requests", params={"type": "access", "jurisdiction": "uk-gdpr"})
    assert access.text.count('href="/console/requests/') == 1 and 'value="access" selected' in access.text


async def test_a_dpo_verifies_a_request_by_document(client: httpx.AsyncClient, services: Services) -> None:
    csrf = await sign_in(client, services)
    page = await client.get(f"/console/requests/{REQUEST_ID}")
    assert "Verify identity by document" in page.text and "one month from receipt" in page.text
    refused = await client.post(f"/console/requests/{REQUEST_ID}/verify", data={"evidence_ref": "P-1", "csrf": "x"})
    assert refused.status_code == 403
    done = await client.post(f"/console/requests/{REQUEST_ID}/verify", data={"evidence_ref": "P-1", "csrf": csrf})
    assert done.status_code == 303  # back to the request, so a reload does not post again
    shown = await client.get(done.headers["location"])
    assert "Identity verified." in shown.text and "P-1" in shown.text
    ((headers, body),) = services.sent("POST", "/verification/manual")
    assert body == {"evidence_ref": "P-1", "note": None}
    assert headers["authorization"].startswith("Bearer ey")  # the person's own token, from the sign-in


async def test_an_auditor_sees_no_verification_form(client: httpx.AsyncClient, services: Services) -> None:
    services.person_scopes = "dsar:read"
    await sign_in(client, services)
    page = await client.get(f"/console/requests/{REQUEST_ID}")
    assert page.status_code == 200 and "Verify identity by document" not in page.text


async def test_signing_out_ends_the_session(client: httpx.AsyncClient, services: Services) -> None:
    await sign_in(client, services)
    out = await client.post("/console/logout")
    assert out.status_code == 303
    assert (await client.get("/console")).status_code == 303
