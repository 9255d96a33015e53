"""The privacy center's forms: the brand, keyed form tokens, consent history and receipts, a child's consent."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from services.portal.service.sealing import Sealer
from tests.integration.portal.fakes import RECEIPT_JWS, Services
from tests.integration.portal.support import EVIL, app, browser, client, csrf_of, services

__all__ = ["app", "client", "services"]  # the fixtures


async def test_pages_wear_the_tenants_name_and_colour(client: httpx.AsyncClient, services: Services) -> None:
    page = await client.get("/p/demo")
    assert "Démo SAS · Privacy center" in page.text and 'style="--brand:#7a1fa2"' in page.text
    services.brand_colour = "red;}body{display:none"  # never put anything but a colour in the style
    assert 'style="--brand:#0b4f8a"' in (await client.get("/p/demo")).text


def test_the_form_token_is_keyed_by_the_portals_secret() -> None:
    one, other = Sealer("a" * 40), Sealer("b" * 40)
    assert one.csrf("visitor") != other.csrf("visitor")
    assert one.csrf("visitor") != hashlib.sha256(b"csrf:visitor").hexdigest()[:32]
    assert one.csrf_matches("visitor", one.csrf("visitor")) and not one.csrf_matches("visitor", other.csrf("visitor"))


@pytest.mark.parametrize(("csrf", "headers"), [("forged", {}), ("", {}), ("ok", EVIL)])
async def test_a_cross_site_request_or_code_is_refused(
    client: httpx.AsyncClient, services: Services, csrf: str, headers: dict[str, str]
) -> None:
    form_page = await client.get("/p/demo/requests/new?type=access")
    token = csrf_of(form_page) if csrf == "ok" else csrf
    form = {"type": "access", "email": "ada@example.com", "jurisdiction": "eu-gdpr", "csrf": token}
    refused = await client.post("/p/demo/requests", data=form, headers=headers)
    assert refused.status_code == 403 and "another site" in refused.text
    assert services.sent("POST", "dsar.test/v1/requests") == []
    filed = await client.post("/p/demo/requests", data=form | {"csrf": csrf_of(form_page)})
    code = await client.post(
        filed.headers["location"] + "/code", data={"code": "123456", "csrf": token}, headers=headers
    )
    assert code.status_code == 403 and services.sent("POST", "/verification/confirm") == []


async def test_a_stranger_without_the_cookie_may_file_only_from_this_site(app: object, services: Services) -> None:
    form = {"type": "access", "email": "ada@example.com", "jurisdiction": "eu-gdpr"}
    async with browser(app) as fresh:  # type: ignore[arg-type]
        assert (await fresh.post("/p/demo/requests", data=form)).status_code == 403
        ok = await fresh.post("/p/demo/requests", data=form, headers={"Origin": "http://portal.test"})
        assert ok.status_code == 303
    assert len(services.sent("POST", "dsar.test/v1/requests")) == 1


async def test_the_history_lists_this_browsers_decisions_with_their_receipts(
    app: object, client: httpx.AsyncClient, services: Services
) -> None:
    empty = await client.get("/p/demo/consent/history")
    assert empty.status_code == 200 and "No choice has been made in this browser yet" in empty.text
    csrf = csrf_of(await client.get("/p/demo/consent"))
    await client.post("/p/demo/consent", data={"purpose": "newsletter", "decision": "granted", "csrf": csrf})
    await client.post("/p/demo/consent", data={"purpose": "newsletter", "decision": "withdrawn", "csrf": csrf})
    history = await client.get("/p/demo/consent/history")
    assert history.text.count("Consent withdrawn") == 1 and history.text.count("Consent given") == 1
    assert "Newsletter" in history.text and "notice version 2" in history.text
    first = services.records[0]["id"]
    receipt = await client.get(f"/p/demo/consent/receipts/{first}")
    assert receipt.status_code == 200 and RECEIPT_JWS in receipt.text
    for label, value in [("Controller", "Démo SAS"), ("Purpose", "Newsletter"), ("Your choice", "consent given")]:
        assert f"<dt>{label}</dt><dd>{value}</dd>" in receipt.text
    download = await client.get(f"/p/demo/consent/receipts/{first}", params={"download": "true"})
    assert download.headers["content-type"].startswith("application/jwt") and download.text == RECEIPT_JWS
    assert f'filename="consent-receipt-{first}.jwt"' in download.headers["content-disposition"]
    ((headers, _),) = services.sent("GET", f"/v1/consents/{first}/receipt")[:1]
    assert headers["accept"] == "application/jwt"
    async with browser(app) as other:  # type: ignore[arg-type]
        await other.get("/p/demo/consent")
        theirs = await other.get(f"/p/demo/consent/receipts/{first}")
        assert theirs.status_code == 404 and "no such decision" in theirs.text
        assert "Consent given" not in (await other.get("/p/demo/consent/history")).text
    assert (await client.get("/p/demo/consent/receipts/not-a-uuid")).status_code == 404
    assert len(services.sent("GET", "/receipt")) == 2  # never for another browser's or a malformed id


async def test_the_consent_page_shows_the_public_notices_and_a_material_change_banner(
    client: httpx.AsyncClient, services: Services
) -> None:
    page = await client.get("/p/demo/consent")
    assert "Our news, once a month." in page.text and 'id="banner"' not in page.text  # both routes 404: fallback
    services.public_notices = [{"purpose": "newsletter", "version": 3, "text": "News, now weekly.", "material": True}]
    services.banner = {"material_change": True, "text": "Our newsletter is now weekly."}
    page = await client.get("/p/demo/consent")
    assert "News, now weekly." in page.text and "Notice version 3" in page.text
    assert 'id="banner"' in page.text and "Our newsletter is now weekly." in page.text
    home = await client.get("/p/demo")
    assert 'id="banner"' in home.text and 'href="/p/demo/consent">Review your choices' in home.text
    assert "/p/demo/consent/history" in page.text and "/p/demo/consent/newsletter/child" in page.text


CHILD = {"country": "FR", "birth_year": "2014"}  # 11 or 12 in 2026: under France's 15
GUARDIAN = {"guardian_name": "Marie Curie", "guardian_email": "marie@example.com", "guardian_consent": "yes"}


async def test_a_child_under_the_countrys_age_needs_the_guardian(client: httpx.AsyncClient, services: Services) -> None:
    form = await client.get("/p/demo/consent/newsletter/child")
    assert form.status_code == 200 and "France (under 15: with a parent)" in form.text
    assert "Belgium (under 13: with a parent)" in form.text and 'id="guardian_email"' in form.text
    csrf = csrf_of(form)
    missing = await client.post("/p/demo/consent/newsletter/child", data=CHILD | {"csrf": csrf})
    assert (
        missing.status_code == 422
        and 'href="#guardian_name"' in missing.text
        and 'href="#guardian_consent"' in missing.text
    )
    assert services.sent("POST", "consent.test/v1/consents") == []
    given = await client.post("/p/demo/consent/newsletter/child", data=CHILD | GUARDIAN | {"csrf": csrf})
    assert given.status_code == 303 and given.headers["location"] == "/p/demo/consent/history"
    ((_, body),) = services.sent("POST", "consent.test/v1/consents")
    assert body["guardian"] == {"consent": True, "verification_method": "email_confirmation"}
    assert body["receipt_to"] == "marie@example.com" and body["country"] == "FR" and body["age"] == 11
    assert body["proof"]["form_id"] == "privacy-center/guardian" and body["decision"] == "granted"
    assert "with a parent or guardian" in (await client.get("/p/demo/consent/history")).text


async def test_over_the_countrys_age_no_guardian_is_asked(client: httpx.AsyncClient, services: Services) -> None:
    csrf = csrf_of(await client.get("/p/demo/consent/newsletter/child"))
    given = await client.post(
        "/p/demo/consent/newsletter/child", data={"country": "BE", "birth_year": "2012", "csrf": csrf}
    )
    assert given.status_code == 303  # 13 in Belgium: old enough
    ((_, body),) = services.sent("POST", "consent.test/v1/consents")
    assert "guardian" not in body and "receipt_to" not in body and body["age"] == 13


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"country": "XX", "birth_year": "2010"}, "country"),
        ({"country": "DE", "birth_year": "20x0"}, "birth_year"),
        ({"country": "DE", "birth_year": "1850"}, "birth_year"),
        (CHILD | GUARDIAN | {"guardian_email": "not-an-email"}, "guardian_email"),
    ],
)
async def test_a_bad_child_form_says_why_and_records_nothing(
    client: httpx.AsyncClient, services: Services, form: dict[str, str], field: str
) -> None:
    csrf = csrf_of(await client.get("/p/demo/consent/newsletter/child"))
    bad = await client.post("/p/demo/consent/newsletter/child", data=form | {"csrf": csrf})
    assert bad.status_code == 422 and f'href="#{field}"' in bad.text
    assert services.sent("POST", "consent.test/v1/consents") == []


async def test_the_child_form_refuses_other_sites_unknown_purposes_and_shows_service_refusals(
    client: httpx.AsyncClient, services: Services
) -> None:
    csrf = csrf_of(await client.get("/p/demo/consent/newsletter/child"))
    forged = await client.post("/p/demo/consent/newsletter/child", data=CHILD | GUARDIAN | {"csrf": "x"})
    assert forged.status_code == 403
    assert (await client.get("/p/demo/consent/profiling/child")).status_code == 404
    unknown = await client.post("/p/demo/consent/profiling/child", data=CHILD | GUARDIAN | {"csrf": csrf})
    assert unknown.status_code == 404 and services.sent("POST", "consent.test/v1/consents") == []
    no_profile = CHILD | GUARDIAN | {"guardian_email": "no-profile@example.com", "csrf": csrf}
    refused = await client.post("/p/demo/consent/newsletter/child", data=no_profile)
    assert refused.status_code == 422 and "Set the controller profile first." in refused.text
