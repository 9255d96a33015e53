"""Telling people that a notice changed: whether it asks for fresh consent, whom it reaches, the banner.

A material change of a notice is brought to the attention of the people it concerns: those whose
grant of the purpose is in force. When the change touches what they agreed to, consent must be
asked again (GDPR Art. 7(1), the controller must be able to show consent to the processing as it
now is; EDPB Guidelines 05/2020 §§ 108-110, https://www.edpb.europa.eu/our-work-tools/our-documents/
guidelines/guidelines-052020-consent-under-regulation-2016679_en), and that message is one the
person cannot opt out of. A change that only informs may carry an unsubscribe link.

The information itself is owed under GDPR Arts. 12(1) and 13(3)
(https://eur-lex.europa.eu/eli/reg/2016/679/oj).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.consent.domain.decisions import require_aware
from services.consent.domain.errors import DomainError
from services.consent.domain.lawful_basis import LawfulBasis, parse_lawful_basis

# What a per-person row says; the first four follow notify's outcomes, the last two were never sent.
REQUESTED, SENT, DELIVERED, FAILED = "requested", "sent", "delivered", "failed"
UNREACHABLE, OPTED_OUT = "unreachable", "opted_out"
# Outcomes only move forward; failed is final, delivered too but for a later bounce.
_RANK = {REQUESTED: 0, SENT: 1, DELIVERED: 2, FAILED: 2}


class InvalidNoticeChange(DomainError):
    """A notice version's flags or text do not fit together."""

    code = "invalid-notice-change"
    title = "Invalid notice version"


def renewal_required(*, material: bool, requires_renewal: bool | None, lawful_basis: LawfulBasis | str) -> bool:
    """Whether a new version asks every earlier grant again: by default a material change of a consent purpose."""
    if requires_renewal and not material:
        raise InvalidNoticeChange("requires_renewal", "only a material change can ask for consent again")
    if requires_renewal is not None:
        return requires_renewal
    return material and parse_lawful_basis(lawful_basis) is LawfulBasis.CONSENT


def may_unsubscribe(requires_renewal: bool) -> bool:
    """A message asking for fresh consent is owed to the person; only an informational one may be refused."""
    return not requires_renewal


@dataclass(frozen=True, slots=True)
class Addressee:
    """A person whose grant is in force, as a campaign sees them."""

    subject_ref: str
    has_address: bool
    opted_out: bool = False


def status_for(person: Addressee, *, requires_renewal: bool) -> str:
    """What a campaign does for one person: ask a message, or say why none can or may be sent."""
    if not person.has_address:
        return UNREACHABLE
    if person.opted_out and may_unsubscribe(requires_renewal):
        return OPTED_OUT
    return REQUESTED


@dataclass(frozen=True, slots=True)
class CampaignCounts:
    """How many people a notice change concerned, and how many each way."""

    targeted: int
    requested: int
    unreachable: int
    opted_out: int


def count(statuses: Iterable[str]) -> CampaignCounts:
    """The counts of a campaign's opening statuses (every targeted person lands in exactly one)."""
    values = list(statuses)
    return CampaignCounts(
        targeted=len(values),
        requested=values.count(REQUESTED),
        unreachable=values.count(UNREACHABLE),
        opted_out=values.count(OPTED_OUT),
    )


def next_status(current: str, outcome: str) -> str | None:
    """The status after notify reports ``outcome``, or ``None`` when it changes nothing (late, repeated)."""
    if current not in _RANK or outcome not in _RANK:
        return None
    if current == DELIVERED and outcome == FAILED:
        return FAILED  # a bounce after the relay took the message
    if _RANK[outcome] <= _RANK[current]:
        return None
    return outcome


@dataclass(frozen=True, slots=True)
class PublishedChange:
    """A published material version, as the banner considers it."""

    purpose: str
    version: int
    published_at: datetime


def in_banner(changes: Sequence[PublishedChange], now: datetime, window: timedelta) -> list[PublishedChange]:
    """The newest material change of each purpose published within ``window`` before ``now``, newest first."""
    now = require_aware(now, "now")
    since = now - window
    latest: dict[str, PublishedChange] = {}
    for change in changes:
        at = require_aware(change.published_at, "published_at")
        if since <= at <= now and (change.purpose not in latest or change.version > latest[change.purpose].version):
            latest[change.purpose] = change
    return sorted(latest.values(), key=lambda c: (c.published_at, c.purpose), reverse=True)
