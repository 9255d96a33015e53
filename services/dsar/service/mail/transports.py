"""Where mail goes: a local mailbox folder of .eml files (local stack, tests) or an SMTP server."""

from __future__ import annotations

import asyncio
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

from services.dsar.settings import DsarSettings
from shared.rules.clock import Clock


@dataclass(frozen=True)
class OutgoingMail:
    """One rendered message to one address."""

    message_id: str
    to: str
    subject: str
    body: str


class MailTransport(Protocol):
    """Delivers a message or raises (the consumer retries, then dead-letters)."""

    async def send(self, mail: OutgoingMail) -> None:
        """Deliver one message."""
        ...


def to_email(mail: OutgoingMail, sender: str, clock: Clock) -> EmailMessage:
    """The RFC 5322 message."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = make_msgid(idstring=mail.message_id, domain="privops.local")
    message["X-Privops-Notification"] = mail.message_id
    message.set_content(mail.body)
    return message


class MailboxTransport:
    """Writes ``<folder>/<notification id>.eml``: a newcomer opens the folder to read the mail."""

    def __init__(self, folder: Path, sender: str, clock: Clock) -> None:
        self.folder = folder
        self.sender = sender
        self.clock = clock

    async def send(self, mail: OutgoingMail) -> None:
        """Write the message atomically (temporary file, then rename)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        data = to_email(mail, self.sender, self.clock).as_bytes()
        target = self.folder / f"{mail.message_id}.eml"
        temporary = target.with_suffix(".tmp")
        await asyncio.to_thread(temporary.write_bytes, data)
        await asyncio.to_thread(temporary.replace, target)


class SmtpTransport:
    """Sends through an SMTP relay (STARTTLS and login when configured)."""

    def __init__(self, settings: DsarSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    def _send(self, message: EmailMessage) -> None:
        s = self.settings
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=15) as client:
            if s.smtp_starttls:
                client.starttls()
            if s.smtp_username and s.smtp_password:
                client.login(s.smtp_username, s.smtp_password.get_secret_value())
            client.send_message(message)

    async def send(self, mail: OutgoingMail) -> None:
        """Send in a worker thread (smtplib blocks)."""
        await asyncio.to_thread(self._send, to_email(mail, self.settings.smtp_from, self.clock))


def build_transport(settings: DsarSettings, clock: Clock) -> MailTransport:
    """The transport the settings choose."""
    if settings.mail_transport == "smtp":
        return SmtpTransport(settings, clock)
    return MailboxTransport(Path(settings.mailbox_dir), settings.smtp_from, clock)
