"""Telling the people affected (GDPR Art. 34, https://eur-lex.europa.eu/eli/reg/2016/679/oj): pure rules.

* Language: each person reads the notice in their own language when it is one the notice is
  written in (``LANGUAGES``), else in the tenant's default, else in English.
* Approval: as processor, the tenant tells the people "in the name and on behalf of the Customer
  and with the latter's consent" (the customer contracts; Art. 28(3)(f)): a processor's notice to
  individuals is sent only once the controller customer approved it. As controller, the tenant's
  own DPO decides; sending the notice is that decision, so no other approval is asked for.
* Approval links: the customer approves or declines at a public link whose token is signed
  (HMAC-SHA256 under the service's key) and names the tenant, the approval and its expiry.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

from services.breach.domain.errors import ApprovalDeclined, ApprovalRequired, NaiveDatetime
from services.breach.domain.notices import LANGUAGES, NoticeKind

TOKEN_PURPOSE: Final = "privops.breach.notice-approval"


class ApprovalStatus(StrEnum):
    """Where the customer's approval of a notice to individuals stands."""

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class ApprovalMethod(StrEnum):
    """How the customer's decision reached us."""

    LINK = "link"  # at the signed link mailed to the customer's contact
    RECORDED = "recorded"  # received by other means (a signed letter, a call) and recorded by our DPO


def pick_language(locale: str | None, default: str | None = None) -> str:
    """The notice language for a person of ``locale`` (``fr-CA`` reads French), else the tenant's, else English."""
    for candidate in (locale, default):
        language = (candidate or "").strip().lower().replace("_", "-").split("-")[0]
        if language in LANGUAGES:
            return language
    return LANGUAGES[0]


def approval_required(role: str, kind: NoticeKind | str) -> bool:
    """True when a notice needs the controller customer's approval: a processor's notice to individuals."""
    return role == "processor" and NoticeKind(kind) is NoticeKind.INDIVIDUALS


def require_approval(role: str, kind: NoticeKind | str, status: ApprovalStatus | str | None) -> None:
    """Refuse to send a processor's notice to individuals the customer has not approved (or declined)."""
    if not approval_required(role, kind):
        return
    if status == ApprovalStatus.APPROVED:
        return
    if status == ApprovalStatus.DECLINED:
        raise ApprovalDeclined(
            "the customer declined this notice to individuals: draft a new one with what they asked, and ask again"
        )
    raise ApprovalRequired(
        "as processor we tell the people affected on the customer's behalf and with their consent: ask for it "
        "(POST /v1/notices/{id}/approval-request mails a link) or record an approval received by other means "
        "(POST /v1/notices/{id}/approval)"
    )


@dataclass(frozen=True)
class ApprovalLink:
    """What an approval link's token names."""

    tenant_id: str
    approval_id: uuid.UUID
    expires_at: datetime


def approval_token(secret: str, link: ApprovalLink) -> str:
    """The signed token of an approval link (URL-safe)."""
    if link.expires_at.tzinfo is None:
        raise NaiveDatetime("expires_at must be timezone-aware (UTC)")
    payload = f"{link.tenant_id}|{link.approval_id}|{int(link.expires_at.timestamp())}".encode()
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def read_approval_token(secret: str, token: str) -> ApprovalLink | None:
    """The link a token names, or None when it is malformed or not signed with ``secret`` (expiry not checked)."""
    encoded, _, signature = token.partition(".")
    try:
        payload = _unb64(encoded)
        given = _unb64(signature)
        if not hmac.compare_digest(given, _mac(secret, payload)):
            return None
        tenant, approval, expires = payload.decode().split("|")
        return ApprovalLink(tenant, uuid.UUID(approval), datetime.fromtimestamp(int(expires), UTC))
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return None


def _mac(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), TOKEN_PURPOSE.encode() + b"|" + payload, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if not text or len(text) > 512:
        raise ValueError("empty or oversized token part")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
