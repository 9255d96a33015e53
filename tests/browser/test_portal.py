"""The portal in a real browser (Debian's Chromium driven by Playwright) against the real local stack.

A person files an erasure in the privacy center, reads the code from the local mailbox, confirms it
and sees the request complete; the DPO signs in to the console and verifies a request by
document, then reports a breach, assesses it and sends the initial notice to the authority, and
reads the other areas of the console. Every page passes axe-core without a serious or critical
violation, and the main pages are saved to docs/screenshots/.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest

from deploy.local.infra import free_port

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

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"),
]


class Stack:
    """``privops up`` in a temporary folder: its URLs, its secrets and its mailbox."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.log = (state_dir.parent / "up.log").open("w")
        base = free_port()
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

    def code_for(self, address: str, timeout: float = 30.0) -> str:
        """The one-time code of the newest mail to ``address``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for path in sorted((self.state_dir / "mailbox").glob("*.eml"), reverse=True):
                mail = BytesParser(policy=policy.default).parse(path.open("rb"))
                if mail["To"] == address:
                    body = mail.get_body(("plain",))
                    match = CODE.search(body.get_content() if body else "")
                    if match:
                        return match.group(1)
            time.sleep(0.5)
        pytest.fail(f"no code mailed to {address}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("portal-e2e") / ".privops")
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


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
    page.goto(f"{stack.portal}/p/demo/subprocessors")
    assert page.locator("a:has-text('Atom feed')").count() == 1
    check_accessibility(page)
    context.close()


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
