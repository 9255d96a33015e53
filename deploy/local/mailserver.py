"""The local SMTP server as the stack runs it: STARTTLS with a certificate made once, AUTH with the local login.

``privops smtp`` serves it, ``privops up`` and the benchmarks start that command as a process and give
the notify service the matching client settings (``NOTIFY_SMTP_*``), so notify talks to it exactly as
it talks to a company's relay. Every accepted message lands in ``<state>/mailbox/`` as a ``.eml`` file.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from deploy.local.infra import LOOPBACK
from deploy.local.secrets import load_local_secrets

if TYPE_CHECKING:
    from aiosmtpd.controller import Controller

SMTP_PORT = 1025  # the usual port of a development mail sink (Mailpit, MailHog): no root needed
LOCAL_SENDER = "privops <noreply@privops.localhost>"


@dataclass(frozen=True)
class LocalSmtp:
    """Where the local SMTP server listens, the certificate it presents, the login it accepts and its mailbox."""

    host: str
    port: int
    mailbox: Path
    cert: Path
    key: Path
    username: str
    password: str

    @classmethod
    def in_state_dir(cls, state_dir: Path, port: int = SMTP_PORT, host: str = LOOPBACK) -> LocalSmtp:
        """The server of a state folder: its mailbox, a certificate made on first use, the login of ``secrets.json``."""
        from deploy.local.smtp import self_signed

        secrets = load_local_secrets(state_dir)
        cert, key = self_signed(state_dir, host)
        return cls(host, port, state_dir / "mailbox", cert, key, secrets.smtp_username, secrets.smtp_password)

    def start(self) -> Controller:
        """Serve in a background thread: STARTTLS required before AUTH, AUTH required before MAIL."""
        from deploy.local.smtp import Credentials, server_tls, start_smtp

        return start_smtp(
            self.mailbox,
            host=self.host,
            port=self.port,
            credentials=Credentials(self.username, self.password),
            tls=server_tls(self.cert, self.key),
        )

    def notify_settings(self, sender: str = LOCAL_SENDER) -> dict[str, str]:
        """The notify service's client settings for this server (without the ``NOTIFY_`` prefix)."""
        return {
            "SMTP_HOST": self.host,
            "SMTP_PORT": str(self.port),
            "SMTP_STARTTLS": "true",
            "SMTP_USERNAME": self.username,
            "SMTP_PASSWORD": self.password,
            "SMTP_CA_FILE": str(self.cert),  # the self-signed certificate: verified, not skipped
            "SMTP_FROM": sender,
            # The local server never bounces: a message it accepted is delivered at once.
            "BOUNCE_WINDOW_S": "0",
        }


def wait_for_smtp(host: str, port: int, timeout: float, alive: Callable[[], bool] = lambda: True) -> None:
    """Block until ``host:port`` greets with ``220``; TimeoutError after ``timeout``, RuntimeError if it died."""
    deadline = time.monotonic() + timeout
    while True:
        if not alive():
            raise RuntimeError(f"the SMTP server on {host}:{port} ended before it greeted")
        try:
            with socket.create_connection((host, port), timeout=1.0) as sock:
                if sock.recv(512).startswith(b"220"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"no SMTP greeting on {host}:{port} after {timeout:.0f} s")
        time.sleep(0.05)
