"""``privops smtp``: the local SMTP server keeps what an authenticated, encrypted client sends, and nothing else."""

from __future__ import annotations

import json
import signal
import smtplib
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from deploy.local.infra import free_port
from deploy.local.mailserver import wait_for_smtp
from deploy.local.secrets import load_local_secrets

REPO = Path(__file__).absolute().parents[2]
HOST = "127.0.0.1"


@dataclass
class Server:
    """A running ``privops smtp`` and what a client needs to use it."""

    process: subprocess.Popen[str]
    port: int
    state_dir: Path

    @property
    def mailbox(self) -> list[Path]:
        """The mails kept so far."""
        return sorted((self.state_dir / "mailbox").glob("*.eml"))

    @property
    def login(self) -> tuple[str, str]:
        """The username and password of the state folder's secrets.json."""
        stored = json.loads((self.state_dir / "secrets.json").read_text())
        return stored["smtp_username"], stored["smtp_password"]

    def tls(self) -> ssl.SSLContext:
        """A client context that trusts the server's self-signed certificate, and nothing else."""
        return ssl.create_default_context(cafile=str(self.state_dir / "smtp-cert.pem"))


def start(state_dir: Path) -> Server:
    """``python -m deploy.cli smtp`` on a free port, once it greets."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "deploy.cli", "smtp", "--state-dir", str(state_dir), "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_smtp(HOST, port, 20.0, alive=lambda: process.poll() is None)
    except (RuntimeError, TimeoutError):
        process.kill()
        pytest.fail(f"privops smtp did not start:\n{process.communicate()[0]}")
    return Server(process, port, state_dir)


def stop(server: Server) -> tuple[int, str]:
    """SIGTERM, as the stack stops it; the exit code and the output."""
    server.process.send_signal(signal.SIGTERM)
    try:
        output, _ = server.process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        pytest.fail("privops smtp still runs 15 s after SIGTERM")
    return server.process.returncode, output


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = start(tmp_path / "state")
    yield running
    if running.process.poll() is None:
        stop(running)


def french_notice() -> EmailMessage:
    """A mail like notify's: multipart/alternative, UTF-8, quoted-printable, a Message-ID."""
    message = EmailMessage()
    message["From"] = "Démo SAS <confidentialite@demo.example>"
    message["To"] = "ada@example.com"
    message["Subject"] = "Votre code de vérification"
    message["Message-ID"] = "<0b6f3f4e-5b1e-4a53-9d39-7d1a2f1c1e01@privops>"
    message.set_content("Pour confirmer votre demande, indiquez ce code : 482913\n", cte="quoted-printable")
    message.add_alternative("<p>Pour confirmer votre demande, indiquez ce code : <b>482913</b></p>", subtype="html")
    return message


def test_a_mail_sent_with_starttls_and_auth_is_kept_in_the_mailbox(server: Server) -> None:
    with smtplib.SMTP(HOST, server.port, timeout=10) as client:
        client.starttls(context=server.tls())  # verifies the certificate and that it names 127.0.0.1
        client.login(*server.login)
        refused = client.send_message(french_notice())
    assert refused == {}

    (kept,) = server.mailbox
    mail = BytesParser(policy=policy.default).parsebytes(kept.read_bytes())
    assert mail["X-Privops-Rcpt"] == "ada@example.com"
    assert mail["Subject"] == "Votre code de vérification"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(preferencelist=("plain",))
    assert text is not None
    assert "indiquez ce code : 482913" in text.get_content()


def test_it_refuses_mail_without_tls_or_without_a_valid_login(server: Server) -> None:
    with smtplib.SMTP(HOST, server.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPSenderRefused) as plain:
            client.send_message(french_notice())
        assert plain.value.smtp_code == 530  # STARTTLS first
        with pytest.raises(smtplib.SMTPNotSupportedError):
            client.login(*server.login)  # no AUTH offered on a clear-text connection

    with smtplib.SMTP(HOST, server.port, timeout=10) as client:
        client.starttls(context=server.tls())
        with pytest.raises(smtplib.SMTPSenderRefused) as anonymous:
            client.send_message(french_notice())
        assert anonymous.value.smtp_code == 530  # authentication required
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login(server.login[0], "not-the-password")

    with smtplib.SMTP(HOST, server.port, timeout=10) as client, pytest.raises(ssl.SSLCertVerificationError):
        client.starttls(context=ssl.create_default_context())  # a client that trusts only public CAs

    assert server.mailbox == []


def test_it_stops_on_sigterm_and_keeps_its_certificate_and_login_across_restarts(server: Server) -> None:
    certificate, login = (server.state_dir / "smtp-cert.pem").read_bytes(), server.login
    code, output = stop(server)
    assert code == 0, output
    assert "SMTP server stopping on SIGTERM" in output
    assert login[1] not in output  # the password stays in secrets.json

    again = start(server.state_dir)
    try:
        assert (again.state_dir / "smtp-cert.pem").read_bytes() == certificate
        with smtplib.SMTP(HOST, again.port, timeout=10) as client:
            client.starttls(context=again.tls())
            client.login(*login)
            client.send_message(french_notice())
        assert len(again.mailbox) == 1
    finally:
        stop(again)


def test_a_state_folder_from_before_the_smtp_server_keeps_its_keys_and_gains_a_login(tmp_path: Path) -> None:
    old = {"jwt_secret": "j" * 48, "subject_hash_key": "s" * 48, "signing_key": "k" * 48}
    (tmp_path / "secrets.json").write_text(json.dumps(old))
    upgraded = load_local_secrets(tmp_path)
    assert (upgraded.jwt_secret, upgraded.subject_hash_key, upgraded.signing_key) == tuple(old.values())
    assert upgraded.smtp_username == "privops"
    assert len(upgraded.smtp_password) >= 24
    assert load_local_secrets(tmp_path) == upgraded  # written once, then read back unchanged
    assert (tmp_path / "secrets.json").stat().st_mode & 0o077 == 0
