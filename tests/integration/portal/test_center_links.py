"""Pages behind mailed links: an access package's download, a customer's subprocessor notice; and the Atom feed."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from tests.integration.portal.fakes import (
    EXPIRED_TOKEN,
    NOTICE_ID,
    NOTICE_TOKEN,
    NOW,
    PACKAGE_ID,
    PACKAGE_TOKEN,
    ZIP,
    Services,
    a_notice,
)
from tests.integration.portal.support import EVIL, app, client, csrf_of, services

__all__ = ["app", "client", "services"]  # the fixtures
NOTICE = f"/p/demo/notices/{NOTICE_ID}"


async def test_the_package_page_leads_to_the_zip(client: httpx.AsyncClient, services: Services) -> None:
    page = await client.get(f"/p/demo/packages/{PACKAGE_ID}", params={"token": PACKAGE_TOKEN})
    assert page.status_code == 200 and "Your data is ready" in page.text and "art15.json" in page.text
    until = (NOW + timedelta(days=7)).isoformat()[:16].replace("T", " ")
    assert f"The link works until <strong>{until} UTC</strong>" in page.text and 'id="downloaded"' not in page.text
    link = f'href="/p/demo/packages/{PACKAGE_ID}/download?token={PACKAGE_TOKEN}"'
    assert link in page.text and 'style="--brand:#7a1fa2"' in page.text
    download = await client.get(f"/p/demo/packages/{PACKAGE_ID}/download", params={"token": PACKAGE_TOKEN})
    assert download.status_code == 200 and download.content == ZIP
    assert download.headers["content-type"] == "application/zip" and download.headers["cache-control"] == "no-store"
    assert f'filename="personal-data-{PACKAGE_ID}.zip"' in download.headers["content-disposition"]
    sent = services.sent("GET", "dsar.test/v1/packages/")
    assert len(sent) == 2 and all("authorization" not in h for h, _ in sent)  # the link's token is the credential


@pytest.mark.parametrize("path", [f"/p/demo/packages/{PACKAGE_ID}", f"/p/demo/packages/{PACKAGE_ID}/download"])
async def test_an_expired_package_link_says_so_clearly(client: httpx.AsyncClient, path: str) -> None:
    expired = await client.get(path, params={"token": EXPIRED_TOKEN})
    assert expired.status_code == 410 and "This download link has expired" in expired.text
    assert 'href="/p/demo/requests/new?type=access"' in expired.text and "Démo SAS" in expired.text
    assert 'id="download"' not in expired.text  # no button that would fail


@pytest.mark.parametrize(
    ("package", "token"),
    [(PACKAGE_ID, "wrong-token-" + "w" * 20), (PACKAGE_ID, ""), (PACKAGE_ID, "short"), ("not-a-uuid", PACKAGE_TOKEN)],
)
async def test_a_wrong_package_link_is_a_clear_404_page(
    client: httpx.AsyncClient, services: Services, package: str, token: str
) -> None:
    wrong = await client.get(f"/p/demo/packages/{package}/download", params={"token": token})
    assert wrong.status_code == 404 and "This download link is not right" in wrong.text
    assert wrong.headers["content-type"].startswith("text/html")
    page = await client.get(f"/p/demo/packages/{package}", params={"token": token})
    assert (
        page.status_code == 404 and "This download link is not right" in page.text and 'id="download"' not in page.text
    )


async def test_the_atom_feed_is_relayed_and_announced(client: httpx.AsyncClient) -> None:
    feed = await client.get("/p/demo/subprocessors.atom")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
    assert "http://www.w3.org/2005/Atom" in feed.text
    page = await client.get("/p/demo/subprocessors")
    assert '<link rel="alternate" type="application/atom+xml"' in page.text
    assert (await client.get("/p/globex/subprocessors.atom")).status_code == 404


async def test_a_customer_objects_to_a_change_on_its_notice_page(client: httpx.AsyncClient, services: Services) -> None:
    page = await client.get(NOTICE, params={"token": NOTICE_TOKEN})
    assert page.status_code == 200 and "MailRelay" in page.text and "replacing PostBox" in page.text
    assert 'id="window-end"' in page.text and "2026-04-09 09:00" in page.text
    assert "Acknowledge" in page.text and "Object to this change" in page.text
    csrf = csrf_of(page)
    empty = await client.post(f"{NOTICE}/objection", data={"token": NOTICE_TOKEN, "csrf": csrf, "reason": "  "})
    assert empty.status_code == 422 and 'href="#reason"' in empty.text
    assert services.sent("POST", "/objection") == []
    objected = await client.post(
        f"{NOTICE}/objection", data={"token": NOTICE_TOKEN, "csrf": csrf, "reason": "No processing in the US."}
    )
    assert objected.status_code == 200 and "We received your objection" in objected.text
    ((headers, body),) = services.sent("POST", "/objection")
    assert headers["x-notice-token"] == NOTICE_TOKEN and body == {"reason": "No processing in the US."}
    again = await client.get(NOTICE, params={"token": NOTICE_TOKEN})
    assert "You objected on" in again.text and "Object to this change" not in again.text


async def test_a_customer_acknowledges_its_notice(client: httpx.AsyncClient, services: Services) -> None:
    csrf = csrf_of(await client.get(NOTICE, params={"token": NOTICE_TOKEN}))
    done = await client.post(f"{NOTICE}/acknowledgement", data={"token": NOTICE_TOKEN, "csrf": csrf})
    assert done.status_code == 200 and "notice acknowledged" in done.text and "You can still object until" in done.text
    assert len(services.sent("POST", "/acknowledgement")) == 1
    assert "Acknowledged" in (await client.get(NOTICE, params={"token": NOTICE_TOKEN})).text


@pytest.mark.parametrize(
    ("path", "token"),
    [(NOTICE, "wrong-token-" + "w" * 20), (NOTICE, ""), ("/p/demo/notices/not-a-uuid", NOTICE_TOKEN)],
)
async def test_a_wrong_notice_link_is_a_clear_404_page(client: httpx.AsyncClient, path: str, token: str) -> None:
    wrong = await client.get(path, params={"token": token})
    assert wrong.status_code == 404 and "does not open a notice" in wrong.text


async def test_another_tenants_notice_does_not_open_here(client: httpx.AsyncClient, services: Services) -> None:
    services.notices[NOTICE_ID] = a_notice(tenant="globex")
    assert (await client.get(NOTICE, params={"token": NOTICE_TOKEN})).status_code == 404


@pytest.mark.parametrize(("csrf", "headers"), [("forged", {}), ("ok", EVIL)])
async def test_a_cross_site_answer_is_refused(
    client: httpx.AsyncClient, services: Services, csrf: str, headers: dict[str, str]
) -> None:
    page = await client.get(NOTICE, params={"token": NOTICE_TOKEN})
    form = {"token": NOTICE_TOKEN, "csrf": csrf_of(page) if csrf == "ok" else csrf, "reason": "x"}
    for answer in ("objection", "acknowledgement"):
        refused = await client.post(f"{NOTICE}/{answer}", data=form, headers=headers)
        assert refused.status_code == 403
    assert services.sent("POST", "subprocessor.test") == []


async def test_after_the_window_the_page_says_so_and_a_late_objection_is_shown_back(
    client: httpx.AsyncClient, services: Services
) -> None:
    page = await client.get(NOTICE, params={"token": NOTICE_TOKEN})
    services.notices[NOTICE_ID]["window_open"] = False  # closes between the page and the click
    late = await client.post(f"{NOTICE}/objection", data={"token": NOTICE_TOKEN, "csrf": csrf_of(page), "reason": "x"})
    assert late.status_code == 422 and "The objection window closed." in late.text
    closed = await client.get(NOTICE, params={"token": NOTICE_TOKEN})
    assert "The time to object to this change has ended." in closed.text and "Object to this change" not in closed.text
