"""The two ways out: a mail through the SMTP relay, a signed POST to a webhook. Each returns what happened.

A mail is multipart/alternative (text, then HTML), UTF-8 and quoted-printable, with a stable
``Message-ID: <id@privops>`` and ``X-Privops-Notification: <id>`` on every retry, so a receiver can
recognise a repeat. A webhook is signed in the Standard Webhooks scheme (``domain/webhooks.py``).
"""

from __future__ import annotations

import asyncio
import json
import smtplib
import ssl
import time
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

import httpx

from services.notify.domain import Message, http_is_transient, redact, sign, smtp_is_transient
from services.notify.settings import NotifySettings
from shared.rules.clock import SystemClock


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: accepted, or refused for a passing or a lasting reason."""

    ok: bool
    transient: bool = False
    detail: str = ""
    smtp_code: int | None = None
    http_status: int | None = None
    duration_ms: int = 0


@dataclass(frozen=True)
class Mail:
    """One rendered mail to one address."""

    notification_id: str
    sender: str
    reply_to: str | None
    to: str
    to_name: str | None
    message: Message


def build_email(mail: Mail, now: datetime) -> EmailMessage:
    """The RFC 5322 message: text then HTML alternatives, UTF-8, quoted-printable, stable Message-ID."""
    email = EmailMessage(policy=SMTP_POLICY)
    email["From"] = mail.sender
    email["To"] = formataddr((mail.to_name, mail.to)) if mail.to_name else mail.to
    if mail.reply_to:
        email["Reply-To"] = mail.reply_to
    email["Subject"] = mail.message.subject
    email["Date"] = format_datetime(now)
    email["Message-ID"] = f"<{mail.notification_id}@privops>"
    email["X-Privops-Notification"] = mail.notification_id
    email["Content-Language"] = mail.message.locale
    email.set_content(mail.message.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    email.add_alternative(mail.message.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return email


def _converse(settings: NotifySettings, envelope_from: str, to: str, data: bytes) -> tuple[int, str]:
    """One SMTP conversation (blocking): EHLO, STARTTLS and AUTH when configured, MAIL, RCPT, DATA."""
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s) as client:
        client.ehlo()
        if settings.smtp_starttls:
            client.starttls(context=ssl.create_default_context(cafile=settings.smtp_ca_file))
            client.ehlo()
        if settings.smtp_username and settings.smtp_password:
            client.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        code, reply = client.mail(envelope_from)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, envelope_from)
        code, reply = client.rcpt(to)
        if code not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({to: (code, reply)})
        code, reply = client.data(data)
        return code, reply.decode(errors="replace")


async def send_email(settings: NotifySettings, mail: Mail, now: datetime) -> Outcome:
    """Hand the mail to the relay in a worker thread (smtplib blocks); 250 is success."""
    data = build_email(mail, now).as_bytes()
    envelope_from = parseaddr(mail.sender)[1] or mail.sender
    started = time.perf_counter()
    try:
        code, reply = await asyncio.to_thread(_converse, settings, envelope_from, mail.to, data)
        return Outcome(ok=True, detail=redact(f"{code} {reply}"), smtp_code=code, duration_ms=_since(started))
    except smtplib.SMTPRecipientsRefused as exc:
        code, raw = next(iter(exc.recipients.values()))
        return _smtp_refusal(code, raw, started)
    except smtplib.SMTPAuthenticationError as exc:
        # The relay refused our login: a deployment fault, not the message's, so it is retried.
        detail = redact(f"authentication refused: {exc.smtp_code} {_text(exc.smtp_error)}")
        return Outcome(ok=False, transient=True, detail=detail, smtp_code=exc.smtp_code, duration_ms=_since(started))
    except smtplib.SMTPResponseException as exc:
        return _smtp_refusal(exc.smtp_code, exc.smtp_error, started)
    except (smtplib.SMTPException, OSError) as exc:  # disconnected, refused, timed out, TLS failed
        detail = redact(f"relay unreachable: {type(exc).__name__}: {exc}")
        return Outcome(ok=False, transient=True, detail=detail, duration_ms=_since(started))


def _smtp_refusal(code: int, raw: Any, started: float) -> Outcome:
    transient = smtp_is_transient(code)
    return Outcome(
        ok=False,
        transient=transient,
        detail=redact(f"{code} {_text(raw)}"),
        smtp_code=code,
        duration_ms=_since(started),
    )


def webhook_body(notification_id: str, tenant_id: str, template: str, message: Message, extra: dict[str, Any]) -> bytes:
    """The JSON a webhook receives: Standard Webhooks' type / timestamp / data, the data holding the message."""
    payload = {
        "type": template,
        "timestamp": SystemClock().now().isoformat(),
        "data": {
            "notification_id": notification_id,
            "tenant": tenant_id,
            "locale": message.locale,
            "subject": message.subject,
            "text": message.text,
            **extra,
        },
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


async def send_webhook(
    client: httpx.AsyncClient, settings: NotifySettings, url: str, secrets: list[str], message_id: str, body: bytes
) -> Outcome:
    """POST the signed body; 2xx is success, 5xx/408/429 and network errors are worth a retry."""
    if not url.startswith("https://") and not settings.allows_plain_http_webhooks:
        return Outcome(ok=False, detail="webhook URL must use https")
    if not secrets:
        return Outcome(ok=False, detail="no webhook secret to sign with: set the alert webhook in the profile")
    # Signed at the wall clock's time: receivers refuse timestamps five minutes away from theirs.
    headers = sign(secrets, message_id, SystemClock().now(), body) | {
        "Content-Type": "application/json",
        "User-Agent": "privops-notify",
    }
    started = time.perf_counter()
    try:
        response = await client.post(url, content=body, headers=headers, timeout=settings.webhook_timeout_s)
    except httpx.HTTPError as exc:
        return Outcome(
            ok=False, transient=True, detail=f"{type(exc).__name__}: {exc}"[:500], duration_ms=_since(started)
        )
    status = response.status_code
    detail = redact(f"{status} {response.reason_phrase} {response.text[:200]}".strip())
    if 200 <= status < 300:
        return Outcome(ok=True, detail=detail, http_status=status, duration_ms=_since(started))
    return Outcome(
        ok=False, transient=http_is_transient(status), detail=detail, http_status=status, duration_ms=_since(started)
    )


def _text(raw: Any) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


def _since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
