"""The local stack's SMTP server: accepts every message and keeps it as a ``.eml`` file in a mailbox folder.

A real SMTP conversation (aiosmtpd), so the platform sends mail exactly as it would to a company's
relay: EHLO, optional STARTTLS and AUTH, MAIL FROM, RCPT TO, DATA. Each accepted message is
written atomically as ``<mailbox>/<received-at>-<n>.eml`` with the envelope recipients in an
``X-Privops-Rcpt`` header, so a newcomer opens the folder to read what people were sent.

A sender retries a message it is not sure was accepted (a lost 250), always with the same
``Message-ID``: the server keeps one file per Message-ID, so a repeat is accepted and not written again.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from deploy.local.infra import free_port


@dataclass
class MailboxHandler:
    """Writes each message it accepts into ``folder``."""

    folder: Path

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._counter = itertools.count(1)
        self._seen = self.folder / ".message-ids"
        self._seen.mkdir(exist_ok=True)

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        """Keep the message once per Message-ID; 250 only once it is on disk (or was already)."""
        content = envelope.original_content or b""
        marker = self._marker(content)
        if marker is not None and marker.exists():
            # Counted (a sender re-sent after a crash between the relay's 250 and its own commit), not kept.
            with (self.folder / ".repeats").open("a") as repeats:
                repeats.write(marker.name + "\n")
            return "250 Message accepted for delivery (already received)"
        rcpt = ", ".join(envelope.rcpt_tos)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        target = self.folder / f"{stamp}-{next(self._counter):06d}.eml"
        temporary = target.with_suffix(".tmp")
        temporary.write_bytes(f"X-Privops-Rcpt: {rcpt}\r\n".encode() + content)
        os.replace(temporary, target)
        if marker is not None:
            marker.write_text(target.name)
        return "250 Message accepted for delivery"

    def _marker(self, content: bytes) -> Path | None:
        """The file that records a Message-ID as received (None for a message without one)."""
        message_id = (BytesHeaderParser().parsebytes(content).get("Message-ID") or "").strip()
        if not message_id:
            return None
        return self._seen / hashlib.sha256(message_id.encode()).hexdigest()

    def messages(self) -> list[Path]:
        """The mails kept so far, oldest first."""
        return sorted(self.folder.glob("*.eml"))


@dataclass(frozen=True)
class Credentials:
    """The one login the local server accepts when AUTH is required."""

    username: str
    password: str

    def __call__(
        self, server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        """Accept exactly this username and password (PLAIN or LOGIN)."""
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            self.username.encode(),
            self.password.encode(),
        )
        return AuthResult(success=ok, handled=False)


def start_smtp(
    mailbox: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    credentials: Credentials | None = None,
    tls: ssl.SSLContext | None = None,
    handler: MailboxHandler | None = None,
) -> Controller:
    """Start the server in a thread and return its controller (``.port`` is the bound port, ``.stop()`` ends it).

    ``handler`` replaces the default mailbox handler (a test's that refuses some recipients).
    """
    handler = handler or MailboxHandler(mailbox)
    kwargs: dict[str, Any] = {"hostname": host, "port": port or free_port(), "ready_timeout": 10}
    if credentials is not None:
        # Without TLS (tests of the plain path) AUTH still works; with it, only after STARTTLS.
        kwargs |= {"authenticator": credentials, "auth_require_tls": tls is not None, "auth_required": tls is not None}
    if tls is not None:
        kwargs |= {"tls_context": tls, "require_starttls": True}
    controller = Controller(handler, **kwargs)
    controller.start()
    return controller


def self_signed(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A certificate and key for ``host``, made once and kept in ``folder`` (the client trusts the certificate)."""
    import ipaddress
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "privops local SMTP")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=825))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host)), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def server_tls(cert: Path, key: Path) -> ssl.SSLContext:
    """The server side of STARTTLS with ``cert`` and ``key``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context
