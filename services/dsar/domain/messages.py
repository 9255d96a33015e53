"""The messages sent to data subjects, rendered from plain templates (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .errors import DomainError


@dataclass(frozen=True)
class Message:
    """A rendered message: subject line and plain-text body."""

    subject: str
    body: str


def _day(value: Any) -> str:
    return value.strftime("%d %B %Y") if isinstance(value, datetime) else str(value)


def render(template: str, context: dict[str, Any]) -> Message:
    """Render one of the DSAR templates with its context."""
    c = context
    if template == "dsar.verification_code":
        return Message(
            "Your verification code",
            f"We received a {c['request_type']} request about your personal data (reference {c['request_id']}).\n\n"
            f"To confirm it is you, give this code: {c['code']}\n\n"
            f"The code expires at {c['expires_at']:%Y-%m-%d %H:%M} UTC. If you did not make this request, ignore "
            "this message: nothing happens without the code.\n",
        )
    if template == "dsar.extension":
        return Message(
            "We need more time to answer your request",
            f"Your {c['request_type']} request (reference {c['request_id']}) was due on {_day(c['previous_due_at'])}. "
            f"We are extending the period by {c['extended_by']}, to {_day(c['due_at'])}, for these reasons:\n\n"
            f"{c['reasons']}\n\nLegal basis: {c['basis']}\n",
        )
    if template == "dsar.refusal":
        return Message(
            "Your request has been refused",
            f"We cannot act on your {c['request_type']} request (reference {c['request_id']}).\n\n"
            f"Grounds: {c['grounds']}\nReasons: {c['reasons']}\n\n"
            f"You have the right to lodge a complaint with {c['authority']} and to seek a judicial remedy.\n",
        )
    if template == "dsar.package_ready":
        return Message(
            "Your personal data is ready to download",
            f"The answer to your {c['request_type']} request (reference {c['request_id']}) is ready.\n\n"
            f"Download it here: {c['url']}\n\nThe link expires at {c['expires_at']:%Y-%m-%d %H:%M} UTC.\n",
        )
    if template == "dsar.completed":
        return Message(
            "Your request has been completed",
            f"Your {c['request_type']} request (reference {c['request_id']}) was carried out in every system "
            f"holding your data ({c['systems']} systems). Certificate: {c.get('certificate_id') or 'n/a'}.\n",
        )
    raise DomainError(f"unknown message template {template!r}")
