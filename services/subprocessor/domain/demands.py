"""Demands from public authorities for the personal data the tenant processes for a customer (no I/O).

A processor acts on the controller's documented instructions "unless required to do so by Union or
Member State law … in such a case, the processor shall inform the controller of that legal
requirement before processing, unless that law prohibits such information on important grounds of
public interest" (GDPR Art. 28(3)(a)); a third country's order is recognised only under an
international agreement (Art. 48), https://eur-lex.europa.eu/eli/reg/2016/679/oj. So every demand
is reviewed by a person, the customer is told at once unless a recorded legal instrument forbids it
(until a date, after which someone must tell the customer or record a new reason), and what is
disclosed is recorded per person (Art. 15(1)(c): the person may learn who received their data).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from .errors import DomainError, IllegalTransition, NaiveDatetime
from .transfers import is_in_eea

DEMAND_TEMPLATE = "subprocessor.demand.received"


class DemandStatus(StrEnum):
    """Where a demand stands, from its receipt to its closing."""

    RECEIVED = "received"
    UNDER_REVIEW = "under_review"
    DISCLOSED = "disclosed"
    PARTIALLY_DISCLOSED = "partially_disclosed"
    REFUSED = "refused"
    CHALLENGED = "challenged"
    CLOSED = "closed"


class Decision(StrEnum):
    """What the reviewer decided: the status it leads to has the same name."""

    DISCLOSED = "disclosed"
    PARTIALLY_DISCLOSED = "partially_disclosed"
    REFUSED = "refused"
    CHALLENGED = "challenged"


S = DemandStatus
DECIDED = frozenset({S.DISCLOSED, S.PARTIALLY_DISCLOSED, S.REFUSED, S.CHALLENGED})
# A challenged demand is decided again once the challenge is over (the court upheld or quashed it).
TRANSITIONS: Mapping[DemandStatus, frozenset[DemandStatus]] = {
    S.RECEIVED: frozenset({S.UNDER_REVIEW}),
    S.UNDER_REVIEW: DECIDED,
    S.CHALLENGED: frozenset({S.DISCLOSED, S.PARTIALLY_DISCLOSED, S.REFUSED, S.CLOSED}),
    S.DISCLOSED: frozenset({S.CLOSED}),
    S.PARTIALLY_DISCLOSED: frozenset({S.CLOSED}),
    S.REFUSED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}
# Data may be handed over only once a person decided it must be.
DISCLOSING = frozenset({S.DISCLOSED, S.PARTIALLY_DISCLOSED})
# A decision needs a demand that is being reviewed, or a challenge whose outcome is known.
REVIEWABLE = frozenset({S.UNDER_REVIEW, S.CHALLENGED})


class DemandTransitionRefused(IllegalTransition):
    """A demand cannot move from its status to the one asked for."""

    status = 409


class SameReviewer(DomainError):
    """The person who recorded a demand may not also decide it (a second pair of eyes reviews it)."""

    status = 409
    field = "reviewer"


class DisclosureRefused(DomainError):
    """A disclosure is outside what the demand and its review allow."""

    status = 409


class InvalidDeferral(DomainError):
    """Telling the customer may be put off only with a legal instrument and a date to look at it again."""

    field = "deferral"


class InvalidDemand(DomainError):
    """A demand is inconsistent (a date in the future, no subject, a bad country)."""


def transition(current: str, target: DemandStatus) -> DemandStatus:
    """``target`` if a demand in ``current`` may move there; else ``IllegalTransition`` (409)."""
    state = DemandStatus(current)
    if target not in TRANSITIONS[state]:
        raise DemandTransitionRefused(f"a demand that is {state.value} cannot become {target.value}")
    return target


def decide(current: str, decision: Decision, *, reviewer: str, recorded_by: str) -> DemandStatus:
    """The status a review leads to: only a demand under review (or challenged) by someone other than its recorder."""
    if DemandStatus(current) not in REVIEWABLE:
        raise DemandTransitionRefused(f"a demand that is {current} is not under review; start the review first")
    if reviewer == recorded_by:
        raise SameReviewer("the person who recorded the demand may not review it; another person decides")
    return transition(current, DemandStatus(decision.value))


def outside_eea(country: str) -> bool:
    """True for an authority outside the EEA: its order binds only through an international agreement (Art. 48),
    which the review should name."""
    return not is_in_eea(country)


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetime(f"{name} must carry a timezone")
    return value


def validate_past(value: datetime, now: datetime, name: str = "received_at") -> datetime:
    """When something already happened (a demand arrived, data was handed over): timezone-aware, not in the future."""
    if _aware(value, name) > now:
        raise InvalidDemand(f"{name} is in the future")
    return value


@dataclass(frozen=True)
class Deferral:
    """Why the customer is not told yet: the legal instrument that forbids it, and until when."""

    reason: str
    instrument: str
    until: datetime


def validate_deferral(deferral: Deferral, now: datetime) -> Deferral:
    """A deferral names its instrument and reason and ends on a date after ``now`` (no open-ended silence)."""
    if not deferral.reason.strip() or not deferral.instrument.strip():
        raise InvalidDeferral("a deferral needs the legal reason and the instrument that forbids telling the customer")
    if _aware(deferral.until, "until") <= now:
        raise InvalidDeferral("a deferral must end after now; tell the customer if the prohibition has ended")
    return deferral


def deferral_lapsed(until: datetime, now: datetime) -> bool:
    """True once the recorded prohibition ran out: the customer must be told, or a new reason recorded."""
    return until <= now


def validate_disclosure(
    status: str,
    *,
    subject_ref: str,
    subjects: Iterable[str],
    categories: Iterable[str],
    requested: Iterable[str],
    records_count: int,
) -> list[str]:
    """The categories disclosed, when a reviewer decided to disclose and they lie within the demand's scope."""
    if DemandStatus(status) not in DISCLOSING:
        raise DisclosureRefused(f"a demand that is {status} allows no disclosure; a reviewer decides first")
    if subject_ref not in set(subjects):
        raise DisclosureRefused("the person is not one the demand concerns")
    chosen = sorted(set(categories))
    beyond = sorted(set(chosen) - set(requested))
    if not chosen:
        raise DisclosureRefused("a disclosure names the categories of data handed over")
    if beyond:
        raise DisclosureRefused(f"categories beyond what the authority asked for: {', '.join(beyond)}")
    if records_count < 0:
        raise DisclosureRefused("records_count cannot be negative")
    return chosen


def evidence_summary(demands: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts and facts of a period's demands, without any person's data (for an evidence pack)."""
    items = list(demands)
    by_status: dict[str, int] = {}
    by_country: dict[str, int] = {}
    for demand in items:
        by_status[demand["status"]] = by_status.get(demand["status"], 0) + 1
        by_country[demand["authority_country"]] = by_country.get(demand["authority_country"], 0) + 1
    return {
        "count": len(items),
        "by_status": dict(sorted(by_status.items())),
        "by_authority_country": dict(sorted(by_country.items())),
        "customers_notified": sum(1 for d in items if d["customer_notified_at"] is not None),
        "notifications_deferred": sum(1 for d in items if d["deferred"]),
        "demands": items,
    }
